// Prints the spine's figures over real HTTP (Kestrel on loopback) against a real PostgreSQL: append to
// delivery to 100 SSE subscribers signed in as the session's owner, and where that time goes; replay;
// token relay; time to first token; cross-node delivery (append on node A, SSE subscribers on node B); and a
// run_python call from node B into the sandbox node A holds vs on A itself (needs the sandbox image and engine).
// Run: source .data/env.sh; Logging__LogLevel__Default=Warning dotnet run -c Release --project bench/Conclave.Bench.Spine [-- --smoke]
//   --smoke  tiny n, no thresholds (test.sh runs every bench this way)
using Conclave.Bench.Common;
using Conclave.Bench.Spine;
using Conclave.Testing.Host;

var smoke = args.Contains("--smoke");
var subscribers = smoke ? 5 : 100;
var warmup = smoke ? 5 : 50;
var appends = smoke ? 20 : 200;
var appendsAlone = smoke ? 20 : 100;

var app = new SpineApp();
await app.InitializeAsync();
var table = new Table(smoke);
try
{
    // Paced: an event every ~10 ms after the previous one was delivered (a busy session), the latency figure.
    var paced = await DeliveryBench.RunAsync(app, subscribers, warmup, appends, appendsAlone, pause: TimeSpan.FromMilliseconds(10));
    table.Add(paced.Headline);
    foreach (var step in paced.Breakdown)
    {
        table.Add(step);
    }

    // Back to back: the next append as soon as every subscriber read the previous one (saturation, for comparison).
    table.Add((await DeliveryBench.RunAsync(app, subscribers, warmup, appends, appendsAlone, pause: TimeSpan.Zero)).Headline);
    foreach (var figure in await ReplayBench.RunAsync(app, events: smoke ? 1_000 : 10_000, clients: smoke ? 3 : 30))
    {
        table.Add(figure);
    }

    table.Add(await TokenRelayBench.RunAsync(app, chunks: smoke ? 20 : 300));
    table.Add(await TimeToFirstTokenBench.RunAsync(app, posts: smoke ? 5 : 60));

    // A second node on the same database: A's commits reach it through LISTEN/NOTIFY (ADR 0015).
    var nodeB = ConclaveApp.SecondNodeOf(app);
    await nodeB.InitializeAsync();
    try
    {
        foreach (var figure in await CrossNodeBench.RunAsync(app, nodeB, subscribers, warmup, appends, pause: TimeSpan.FromMilliseconds(10)))
        {
            table.Add(figure);
        }

        // A tool call from a run on B into the sandbox A holds: two queue hops through PostgreSQL.
        foreach (var figure in await SandboxHopBench.RunAsync(app, nodeB, warmup: smoke ? 2 : 20, calls: smoke ? 5 : 200))
        {
            table.Add(figure);
        }
    }
    finally
    {
        await nodeB.DisposeAsync();
    }

    table.Note("The indented rows under a headline split it at timestamps taken in the Host: a Marten listener at commit, a timed");
    table.Note("ISessionFeed around the real one (its items reach the SSE writer). The subscribers' HTTP clients run in this process too.");
    return table.ExitCode;
}
finally
{
    table.Print();
    await app.DisposeAsync();
}
