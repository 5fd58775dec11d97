// Browser benchmark: prints figure, p50, p99, target, pass/fail. Needs Debian's Chromium
// (Conclave__Browser__ExecutablePath, scripts/chromium.sh) and, as root, the conclave-browser user.
//   dotnet run -c Release --project bench/Conclave.Bench.Browser [-- --smoke]
//   --smoke  tiny n, no thresholds (test.sh runs every bench this way)
// The web tools run as agents call them (IToolSource), against a local site on loopback allowed for the
// browser only; every request goes through the egress proxy, as in production.
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Conclave.Agents.Contracts;
using Conclave.Bench.Common;
using Conclave.Egress;
using Conclave.Sandbox.Contracts;
using Conclave.Web;
using Conclave.Web.Browsing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

var smoke = args.Contains("--smoke");
var warmReads = smoke ? 5 : 60;
var newSessions = smoke ? 3 : 20;
const int Concurrent = 10;
var perSession = smoke ? 2 : 10;
var fetches = smoke ? 20 : 300;

await using var site = await LocalSite.StartAsync();
var settings = new Dictionary<string, string?>
{
    ["Conclave:Browser:AllowList:0"] = $"127.0.0.1:{site.Port}",
    ["Conclave:Browser:MaxContexts"] = "32",
    ["Conclave:Browser:ExecutablePath"] = Environment.GetEnvironmentVariable("Conclave__Browser__ExecutablePath") ?? "/usr/bin/chromium",
};
var services = new ServiceCollection()
    .AddLogging(l => l.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning))
    .AddSingleton(TimeProvider.System)
    .AddSingleton<IWorkspace, NoWorkspace>()
    .AddWebModule(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
await using var provider = services.BuildServiceProvider();
var tools = provider.GetRequiredService<IToolSource>();
var browsers = provider.GetRequiredService<SessionBrowsers>();
var table = new Table(smoke);
var page = site.Url("article").ToString();

async Task<double> TimedAsync(Guid session, params (string Tool, object Arguments)[] calls)
{
    var clock = Stopwatch.StartNew();
    foreach (var (tool, arguments) in calls)
    {
        var result = await tools.CallAsync(tool, JsonSerializer.SerializeToElement(arguments), new ToolCallContext(session, Guid.Empty, "bench", "Bench"), CancellationToken.None);
        if (result.Failed)
        {
            throw new InvalidOperationException($"{tool} failed: {result.Text}");
        }
    }

    return clock.Elapsed.TotalMilliseconds;
}

(string, object) Open(string url) => ("open_url", new { url });
(string, object) Read() => ("read_page", new { });

// Start the browser once (its launch is not what these figures are about).
var launch = Stopwatch.StartNew();
await TimedAsync(Guid.NewGuid(), Open(page));
table.Note($"browser start (Chromium as {browsers.SandboxUser ?? "the current user"}, sandbox on, first context): {launch.Elapsed.TotalMilliseconds:0} ms");

// 1. Open and read a page, warm context.
var warm = Guid.NewGuid();
await TimedAsync(warm, Open(page), Read());
var warmTimes = new List<double>();
for (var i = 0; i < warmReads; i++)
{
    warmTimes.Add(await TimedAsync(warm, Open(page), Read()));
}

table.Add(Figure.Of("open_url + read_page, warm context", warmTimes, "ms", Target.Latency(300, null)));

// 2. First open_url of a new session: its context is created.
var firstTimes = new List<double>();
for (var i = 0; i < newSessions; i++)
{
    var session = Guid.NewGuid();
    firstTimes.Add(await TimedAsync(session, Open(page)));
    await browsers.CloseAsync(session);
}

table.Add(Figure.Of("first open_url, new session (context created)", firstTimes, "ms", Target.Latency(1000, null)));

// 3. Ten sessions browsing at once.
var before = ChromiumPss(browsers);
var contextsBefore = browsers.Contexts;
var callTimes = new System.Collections.Concurrent.ConcurrentBag<double>();
var failures = 0;
var all = Stopwatch.StartNew();
await Task.WhenAll(Enumerable.Range(0, Concurrent).Select(async _ =>
{
    var session = Guid.NewGuid();
    for (var i = 0; i < perSession; i++)
    {
        try
        {
            callTimes.Add(await TimedAsync(session, Open(page), Read()));
        }
        catch (InvalidOperationException e)
        {
            Interlocked.Increment(ref failures);
            Console.Error.WriteLine(e.Message);
        }
    }
}));
var elapsed = all.Elapsed;
var after = ChromiumPss(browsers);
table.Add(Figure.Of($"open_url + read_page, {Concurrent} sessions at once", [.. callTimes], "ms", Target.None));
table.Add(Figure.Single($"throughput, {Concurrent} sessions at once", callTimes.Count / elapsed.TotalSeconds, "pages/s", Target.None));
table.Add(Figure.Count($"failures, {Concurrent} sessions at once", failures, "", Target.NoneAllowed));
if (before > 0 && after > 0)
{
    table.Add(Figure.Single("memory per context (Chromium PSS growth / contexts)", (after - before) / (double)(browsers.Contexts - contextsBefore) / 1024, "MiB", Target.None));
}
else
{
    table.Note("memory per context: not measured (Chromium's processes are only found when the Host runs as root)");
}

// 4. The egress proxy's overhead: the same page fetched through it and directly, one connection per request each.
var policy = provider.GetRequiredService<EgressPolicy>();
await using var proxy = new EgressProxy(policy, [.. browsers.AllowList], 256, provider.GetRequiredService<ILogger<EgressProxy>>());
proxy.Start();
var client = proxy.Register("bench");
using var direct = new HttpClient(new SocketsHttpHandler { UseProxy = false, PooledConnectionLifetime = TimeSpan.Zero });
using var proxied = new HttpClient(new SocketsHttpHandler
{
    Proxy = new WebProxy(proxy.Address) { Credentials = new NetworkCredential(client.UserName, client.Password) },
    UseProxy = true,
    PooledConnectionLifetime = TimeSpan.Zero,
});
// The proxy sends Basic credentials only after a 407 unless asked first: send them up front, as Chromium does once it knows.
proxied.DefaultRequestHeaders.ProxyAuthorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{client.UserName}:{client.Password}")));
async Task<List<double>> FetchAsync(HttpClient http)
{
    var times = new List<double>();
    for (var i = 0; i < fetches; i++)
    {
        var clock = Stopwatch.StartNew();
        using var request = new HttpRequestMessage(HttpMethod.Get, page);
        request.Headers.ConnectionClose = true;
        using var response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        await response.Content.ReadAsByteArrayAsync();
        times.Add(clock.Elapsed.TotalMilliseconds);
    }

    return times;
}

await FetchAsync(direct);
await FetchAsync(proxied);
var directTimes = await FetchAsync(direct);
var proxiedTimes = await FetchAsync(proxied);
table.Add(Figure.Of("page fetched directly", directTimes, "ms", Target.None));
table.Add(Figure.Of("page fetched through the egress proxy", proxiedTimes, "ms", Target.None));
table.Add(Figure.Single("egress proxy overhead (p50 through / p50 direct)", Percentiles.Of(proxiedTimes, 50) / Percentiles.Of(directTimes, 50), "x", Target.None));

table.Print();
return table.ExitCode;

/// <summary>Proportional set size of this node's Chromium, in KiB: shared pages counted once across its processes.</summary>
static long ChromiumPss(SessionBrowsers browsers)
{
    long total = 0;
    foreach (var pid in browsers.ChromiumProcessIds())
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/smaps_rollup").FirstOrDefault(l => l.StartsWith("Pss:", StringComparison.Ordinal));
            total += line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
        }
    }

    return total;
}

/// <summary>The bench takes no screenshots and downloads nothing: no workspace is needed, and none is touched.</summary>
internal sealed class NoWorkspace : IWorkspace
{
    public Task<IReadOnlyList<WorkspaceFile>> ListAsync(Guid sessionId, CancellationToken ct = default) => throw new NotSupportedException();

    public Task<Stream> OpenReadAsync(Guid sessionId, string path, CancellationToken ct = default) => throw new NotSupportedException();

    public Task<WorkspaceFile> WriteAsync(Guid sessionId, string path, Stream content, CancellationToken ct = default) => throw new NotSupportedException();

    public Task DeleteAsync(Guid sessionId, string path, CancellationToken ct = default) => throw new NotSupportedException();
}

/// <summary>A page like an article: headings, paragraphs, links and a small form (about 20 kB), on loopback.</summary>
internal sealed class LocalSite : IAsyncDisposable
{
    private readonly WebApplication _app;

    private LocalSite(WebApplication app) => _app = app;

    public int Port { get; private set; }

    public Uri Url(string path) => new($"http://127.0.0.1:{Port}/{path}");

    public static async Task<LocalSite> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var html = Article();
        app.MapGet("/article", () => Results.Content(html, "text/html; charset=utf-8"));
        await app.StartAsync();
        return new LocalSite(app) { Port = new Uri(app.Urls.Single()).Port };
    }

    private static string Article()
    {
        var body = new StringBuilder("<!doctype html><html><head><meta charset=\"utf-8\"><title>Bench article</title></head><body><h1>Bench article</h1>");
        for (var i = 1; i <= 30; i++)
        {
            body.Append(CultureInfo.InvariantCulture, $"<h2>Section {i}</h2><p>")
                .Append(string.Join(' ', Enumerable.Repeat("The quick brown fox jumps over the lazy dog.", 12)))
                .Append(CultureInfo.InvariantCulture, $" <a href=\"/article?s={i}\">More on section {i}</a></p>");
        }

        body.Append("<form><label for=\"q\">Search</label><input id=\"q\" name=\"q\"><button>Go</button></form></body></html>");
        return body.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
