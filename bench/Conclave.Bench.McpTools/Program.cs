using System.Diagnostics;
using System.Text.Json;
using Conclave.Bench.Common;
using Conclave.McpTools.Contracts;
using Conclave.Testing;
using Conclave.Testing.Host;
using ModelContextProtocol.Client;

// Prints what Conclave adds to an MCP tool call (issue 16): the same echo call to a real MCP server on loopback,
// once from a bare SDK client and once through the Host's MCP tools module (server lookup, connection, timeout,
// result shaping), alternately; the overhead is their difference per pair, so the server's own time cancels out.
// Run: source .data/env.sh; Logging__LogLevel__Default=Warning dotnet run -c Release --project bench/Conclave.Bench.McpTools [-- --smoke]
//   --smoke  tiny n, no thresholds (test.sh runs every bench this way); a failed call still fails it
var smoke = args.Contains("--smoke");
var pairs = smoke ? 20 : 2000;
var warmup = smoke ? 5 : 200;
const string Owner = "bench";
var table = new Table(smoke);

await using var server = await McpTestServer.StartNewAsync();
var app = new ConclaveApp();
app.ExtraSettings["Conclave:Egress:AllowList:5"] = $"127.0.0.1:{server.Port}";
await app.InitializeAsync();
try
{
    var registered = await app.Service<IMcpServers>().RegisterAsync(Owner, isAdmin: false, new McpServerRequest("bench", server.Url.ToString()));
    if (registered.State != McpConnectionState.Connected)
    {
        throw new InvalidOperationException($"The bench server did not connect: {registered.LastError}");
    }

    var tools = app.Service<IMcpTools>();
    await using var bare = await McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions { Endpoint = server.Url }));
    var arguments = JsonSerializer.SerializeToElement(new { text = "bench" });
    var bareArguments = new Dictionary<string, object?> { ["text"] = "bench" };

    var throughHost = new List<double>();
    var direct = new List<double>();
    var overhead = new List<double>();
    var failed = 0;
    for (var i = -warmup; i < pairs; i++)
    {
        var clock = Stopwatch.StartNew();
        var raw = await bare.CallToolAsync("echo", bareArguments);
        var rawMs = clock.Elapsed.TotalMilliseconds;
        clock.Restart();
        var result = await tools.CallAsync(Owner, "bench__echo", arguments);
        var hostMs = clock.Elapsed.TotalMilliseconds;
        if (result.Failed || result.Text != "echo: bench" || raw.IsError == true)
        {
            failed++;
        }

        if (i >= 0)
        {
            direct.Add(rawMs);
            throughHost.Add(hostMs);
            overhead.Add(hostMs - rawMs);
        }
    }

    table.Add(Figure.Of("echo over loopback, bare SDK client", direct, "ms", Target.None));
    table.Add(Figure.Of("echo over loopback, through Conclave's MCP tools module", throughHost, "ms", Target.None));
    table.Add(Figure.Of("Host-side overhead per call (module minus bare, per pair)", overhead, "ms", Target.Latency(5, null)));
    table.Add(Figure.Count("failed or wrong answers", failed, "calls", Target.NoneAllowed));
    table.Note("Both clients call the same stateful SDK server in this process; the server's time is in both and cancels out of the overhead.");
}
finally
{
    await app.DisposeAsync();
}

table.Print();
return table.ExitCode;
