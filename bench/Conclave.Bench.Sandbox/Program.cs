// Sandbox benchmark: prints figure, p50, p99, target, pass/fail. Needs a Docker API
// (Conclave__Sandbox__DockerEndpoint, e.g. from `scripts/podman.sh env`) and the sandbox image.
//   dotnet run -c Release --project bench/Conclave.Bench.Sandbox [-- --smoke]
//   --smoke  tiny n, no thresholds (test.sh runs every bench this way)
using System.Diagnostics;
using Conclave.Bench.Common;
using Conclave.Sandbox;
using Conclave.Sandbox.Containers;
using Conclave.Sandbox.Contracts;
using Conclave.Sandbox.Lifecycle;
using Docker.DotNet.Models;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

var smoke = args.Contains("--smoke");
var warmRuns = smoke ? 2 : 30;
var coldRuns = smoke ? 1 : 8;
var rawRuns = smoke ? 1 : 15;
var roundTrips = smoke ? 10 : 300;
var concurrentSessions = smoke ? 3 : 20;
var perSessionExecutions = smoke ? 2 : 10;
var transferRuns = smoke ? 1 : 8;
var transferMiB = smoke ? 5 : 50;

var table = new Table(smoke);
var root = Path.Combine(Path.GetTempPath(), "conclave-bench-sandbox", Guid.NewGuid().ToString("N")[..8]);
using var host = BuildHost("bench-warm-" + Guid.NewGuid().ToString("N")[..8], Path.Combine(root, "warm"), poolSize: 2);
await host.StartAsync();
var sandbox = host.Services.GetRequiredService<ISandbox>();
var pool = host.Services.GetRequiredService<WarmPool>();
var containers = host.Services.GetRequiredService<SandboxContainers>();
var sessions = host.Services.GetRequiredService<SessionSandboxes>();
await Until(() => pool.ReadyCount == 2, TimeSpan.FromMinutes(3));

// 1. First execution of a new session, served from the warm pool.
var firstWarm = new List<double>();
for (var i = 0; i < warmRuns; i++)
{
    await Until(() => pool.ReadyCount == 2, TimeSpan.FromMinutes(2));
    var session = Guid.NewGuid();
    var clock = Stopwatch.StartNew();
    var result = await sandbox.ExecuteAsync(session, "1+1");
    firstWarm.Add(clock.Elapsed.TotalMilliseconds);
    Check(result, "2");
    await sandbox.RemoveSessionAsync(session);
}
table.Add(Figure.Of("first execution, new session, warm pool (1+1)", firstWarm, "ms", Target.Latency(20, 150)));

// 2. Round trip of a trivial execution in a warm session.
var warmSession = Guid.NewGuid();
for (var i = 0; i < 10; i++)
{
    await sandbox.ExecuteAsync(warmSession, "1+1");
}
var trips = new List<double>();
for (var i = 0; i < roundTrips; i++)
{
    var clock = Stopwatch.StartNew();
    var result = await sandbox.ExecuteAsync(warmSession, "1+1");
    trips.Add(clock.Elapsed.TotalMilliseconds);
    Check(result, "2");
}
table.Add(Figure.Of("round trip, warm session (1+1)", trips, "ms", Target.Latency(5, null)));
await sandbox.RemoveSessionAsync(warmSession);

// 3. Twenty sessions (three in a smoke run) executing at once (containers already running; the figure is execution latency).
var crowd = Enumerable.Range(0, concurrentSessions).Select(_ => Guid.NewGuid()).ToList();
await Task.WhenAll(crowd.Select(s => sandbox.ExecuteAsync(s, "import math")));
var latencies = new List<double>();
var failures = 0;
var wall = Stopwatch.StartNew();
await Task.WhenAll(crowd.Select(async s =>
{
    for (var i = 0; i < perSessionExecutions; i++)
    {
        var clock = Stopwatch.StartNew();
        var result = await sandbox.ExecuteAsync(s, "sum(math.sqrt(i) for i in range(20000))");
        lock (latencies)
        {
            latencies.Add(clock.Elapsed.TotalMilliseconds);
            failures += result.Status == ExecutionStatus.Ok ? 0 : 1;
        }
    }
}));
var throughput = latencies.Count / wall.Elapsed.TotalSeconds;
table.Add(Figure.Of($"{concurrentSessions} sessions concurrently, per execution", latencies, "ms", Target.None));
table.Add(Figure.Single($"{concurrentSessions} sessions concurrently, throughput", throughput, "exec/s", Target.None));
table.Add(Figure.Count($"{concurrentSessions} sessions concurrently, failed executions", failures, "failed", Target.NoneAllowed));

// 4. Memory of an idle sandbox (the twenty above, idle now), from container stats.
var memory = new List<double>();
foreach (var (_, container) in sessions.Active)
{
    var stats = await containers.StatsAsync(container.ContainerId, CancellationToken.None);
    memory.Add(WorkingSetMiB(stats));
}
table.Add(Figure.Of("memory per idle sandbox (container stats)", memory, "MiB", Target.None));
await Task.WhenAll(crowd.Select(s => sandbox.RemoveSessionAsync(s)));

// 5. Upload and download of a 50 MiB file (5 MiB in a smoke run) through the workspace API (what the files endpoints stream).
var workspace = host.Services.GetRequiredService<IWorkspace>();
var fileSession = Guid.NewGuid();
var payload = new byte[transferMiB * 1024 * 1024];
Random.Shared.NextBytes(payload);
var uploads = new List<double>();
var downloads = new List<double>();
var buffer = new byte[81920];
for (var i = 0; i < transferRuns; i++)
{
    var clock = Stopwatch.StartNew();
    await workspace.WriteAsync(fileSession, "big/upload.bin", new MemoryStream(payload, writable: false));
    uploads.Add(payload.Length / 1048576.0 / clock.Elapsed.TotalSeconds);
    clock.Restart();
    long read = 0;
    await using (var stream = await workspace.OpenReadAsync(fileSession, "big/upload.bin"))
    {
        int n;
        while ((n = await stream.ReadAsync(buffer)) > 0)
        {
            read += n;
        }
    }
    downloads.Add(read / 1048576.0 / clock.Elapsed.TotalSeconds);
}
table.Add(Figure.Of($"upload {transferMiB} MiB through IWorkspace", uploads, "MiB/s", Target.None));
table.Add(Figure.Of($"download {transferMiB} MiB through IWorkspace", downloads, "MiB/s", Target.None));

// 6. First execution of a session that has files already (an upload): it needs its own volume mounted, so a cold start.
var afterUpload = new List<double>();
for (var i = 0; i < coldRuns; i++)
{
    var session = Guid.NewGuid();
    await workspace.WriteAsync(session, "data.csv", new MemoryStream("a,b\n1,2\n"u8.ToArray()));
    var clock = Stopwatch.StartNew();
    var result = await sandbox.ExecuteAsync(session, "1+1");
    afterUpload.Add(clock.Elapsed.TotalMilliseconds);
    Check(result, "2");
    await sandbox.RemoveSessionAsync(session);
}
table.Add(Figure.Of("first execution of a session with an upload (1+1)", afterUpload, "ms", Target.None));
await sandbox.RemoveSessionAsync(fileSession);
await host.StopAsync();

// 7. The cold path: no warm pool, so the first execution creates the container and starts the kernel.
using (var coldHost = BuildHost("bench-cold-" + Guid.NewGuid().ToString("N")[..8], Path.Combine(root, "cold"), poolSize: 0))
{
    await coldHost.StartAsync();
    var coldSandbox = coldHost.Services.GetRequiredService<ISandbox>();
    var cold = new List<double>();
    for (var i = 0; i < coldRuns; i++)
    {
        var session = Guid.NewGuid();
        var clock = Stopwatch.StartNew();
        var result = await coldSandbox.ExecuteAsync(session, "1+1");
        cold.Add(clock.Elapsed.TotalMilliseconds);
        Check(result, "2");
        await coldSandbox.RemoveSessionAsync(session);
    }
    table.Add(Figure.Of("cold path: create + start kernel + 1+1", cold, "ms", Target.None));

    // 8. Anchor: a hardened container running `true` through the same API, create to exit.
    var docker = coldHost.Services.GetRequiredService<SandboxContainers>().Docker;
    var image = coldHost.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<SandboxOptions>>().Value.Image;
    var raw = new List<double>();
    for (var i = 0; i < rawRuns; i++)
    {
        var clock = Stopwatch.StartNew();
        var created = await docker.Containers.CreateContainerAsync(new CreateContainerParameters
        {
            Image = image,
            Cmd = ["true"],
            User = "65534:65534",
            NetworkDisabled = true,
            HostConfig = new HostConfig
            {
                NetworkMode = "none", ReadonlyRootfs = true, CapDrop = ["ALL"], SecurityOpt = ["no-new-privileges"],
                Memory = 512L * 1024 * 1024, MemorySwap = 512L * 1024 * 1024, PidsLimit = 128,
                Tmpfs = new Dictionary<string, string> { ["/tmp"] = "rw,nosuid,nodev,noexec,size=67108864" },
            },
        });
        await docker.Containers.StartContainerAsync(created.ID, new ContainerStartParameters());
        await docker.Containers.WaitContainerAsync(created.ID);
        raw.Add(clock.Elapsed.TotalMilliseconds);
        await docker.Containers.RemoveContainerAsync(created.ID, new ContainerRemoveParameters { Force = true });
    }
    table.Add(Figure.Of("anchor: hardened raw container running `true`", raw, "ms", Target.None));
    await coldHost.StopAsync();
}

Directory.Delete(root, recursive: true);
table.Print();
return table.ExitCode;

static IHost BuildHost(string nodeId, string workspaceRoot, int poolSize)
{
    var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
    builder.Configuration.AddEnvironmentVariables();
    builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["Conclave:Sandbox:NodeId"] = nodeId,
        ["Conclave:Sandbox:WorkspaceRoot"] = workspaceRoot,
        ["Conclave:Sandbox:WarmPoolSize"] = poolSize.ToString(),
    });
    builder.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning);
    builder.Services.AddSandboxModule(builder.Configuration);
    return builder.Build();
}

static async Task Until(Func<bool> condition, TimeSpan timeout)
{
    var deadline = DateTime.UtcNow + timeout;
    while (!condition())
    {
        if (DateTime.UtcNow > deadline)
        {
            throw new TimeoutException("The warm pool did not fill; is the sandbox image built (scripts/sandbox-image.sh)?");
        }
        await Task.Delay(20);
    }
}

static void Check(ExecutionResult result, string expected)
{
    if (result.Status != ExecutionStatus.Ok || result.Result != expected)
    {
        throw new InvalidOperationException($"Unexpected result: {result.Status} {result.Result} {result.Error}");
    }
}

// What `docker stats` shows: usage minus reclaimable page cache.
static double WorkingSetMiB(ContainerStatsResponse? stats)
{
    var memory = stats?.MemoryStats;
    if (memory?.Usage is not { } usage)
    {
        return double.NaN;
    }
    ulong cache = 0;
    if (memory.Stats is { } detail)
    {
        cache = detail.TryGetValue("total_inactive_file", out var v1) ? v1
            : detail.TryGetValue("inactive_file", out var v2) ? v2
            : detail.TryGetValue("cache", out var v3) ? v3 : 0;
    }
    return (usage - Math.Min(usage, cache)) / 1024.0 / 1024.0;
}
