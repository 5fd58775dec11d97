using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net.Http.Headers;
using Conclave.Bench.Common;
using Conclave.Sessions.Contracts;
using Conclave.Testing;
using Conclave.Testing.Host;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Trace;

// Prints the orchestrator's figures (issue 4): overhead per persisted step with an instant scripted
// model, 50 concurrent runs x 20 steps on this machine, and stop latency (request to RunCancelled); and what the
// instrumentation costs (issue 13): step overhead with OpenTelemetry off vs metrics and tracing exported, and a
// scrape of /metrics holding 1,000 series; and runs/s with the same concurrent runs spread over 2 nodes vs 1 (issue 12).
// Run: source .data/env.sh; Logging__LogLevel__Default=Warning dotnet run -c Release --project bench/Conclave.Bench.Runs [-- --smoke]
//   --smoke  tiny n, no thresholds (test.sh runs every bench this way); lost or duplicated events still fail it
var smoke = args.Contains("--smoke");
var steps = smoke ? 4 : 20;
var sequentialRuns = smoke ? 2 : 10;
var concurrentRuns = smoke ? 5 : 50;
var stopRuns = smoke ? 3 : 30;
var scrapes = smoke ? 5 : 200;
var planners = new Guid("00000000-0000-7000-8000-0000000000c3"); // Planner-Coder-Critic: three agents in turn, no keyword from text here
const string Owner = "bench";
using var overhead = new StepOverhead();
var failures = 0;
var table = new Table(smoke);

// 0. Instrumentation overhead: the same sequential runs on a Host without OpenTelemetry (Conclave:Telemetry:Enabled=false)
// and on one exporting metrics and traces, alternately (this machine's other load drifts), each Host alone in this
// process: meters and activity sources are process-wide, so no other Host may listen meanwhile.
var overheadOff = new List<double>();
var overheadOn = new List<double>();
for (var round = 0; round < (smoke ? 1 : 5); round++)
{
    overheadOff.AddRange(await AloneAsync(new ConclaveApp(), telemetry: false));
    overheadOn.AddRange(await AloneAsync(new InstrumentedApp(), telemetry: true));
}

// The Host for everything else has metrics and traces exported as in production: /metrics behind a scrape token,
// spans through a batch processor (to an exporter that drops them, in place of an OTLP collector).
var app = new InstrumentedApp();
app.ExtraSettings["Conclave:Models:Default:MaxRetries"] = "0";
app.ExtraSettings["Conclave:Metrics:ScrapeToken"] = InstrumentedApp.ScrapeToken;
await app.InitializeAsync();
try
{
    var sessions = app.Service<ISessions>();

    // 1. One run at a time: per-step overhead and the wall time of a step with an instant model.
    var single = Stopwatch.StartNew();
    var sequential = await SequentialStepOverheadAsync(app);
    single.Stop();
    var sequentialSteps = sequentialRuns * steps;
    table.Add(Figure.Of("step overhead, one run at a time (persisting included)", sequential, "ms", Target.Latency(10, 50)));
    table.Add(Figure.Single($"one run at a time, {sequentialRuns} runs x {steps} steps: wall time per step incl. the model call", single.Elapsed.TotalMilliseconds / sequentialSteps, "ms", Target.None));
    table.Add(Figure.Of("step overhead, one run at a time, OpenTelemetry off (fresh Hosts)", overheadOff, "ms", Target.None));
    table.Add(Figure.Of("step overhead, one run at a time, metrics + tracing exported (fresh Hosts)", overheadOn, "ms", Target.None));
    var p50Off = Percentiles.Of(overheadOff, 50);
    var p50On = Percentiles.Of(overheadOn, 50);
    table.Add(Figure.Single("instrumentation overhead: step overhead p50, exported vs off", (p50On / p50Off - 1) * 100, "%", Target.Latency(5, null)));
    app.Service<TracerProvider>().ForceFlush();
    table.Add(Figure.Single("spans exported by the Host so far (through the batch processor)", app.Exported.Count, "spans", Target.None));

    // 1b. A scrape of /metrics with 1,000 series of a bench meter (named Conclave.*, so the Host exports it) besides the Host's own.
    using (var meter = new Meter("Conclave.Bench.Scrape"))
    {
        var counter = meter.CreateCounter<long>("conclave.bench.scrape.series");
        for (var i = 0; i < 1_000; i++)
        {
            counter.Add(1, new KeyValuePair<string, object?>("series", i));
        }

        var (latencies, series) = await ScrapeAsync(app, scrapes);
        table.Add(Figure.Of($"scrape of /metrics with {series:N0} series (1,000 of them the bench's)", latencies, "ms", Target.Latency(50, null)));
    }

    // 2. Concurrent runs.
    overhead.Clear();
    var concurrent = Stopwatch.StartNew();
    CountFailures(await RunAsync(sessions, app, Owner, planners, steps, count: concurrentRuns));
    concurrent.Stop();
    table.Add(Figure.Of($"step overhead, {concurrentRuns} concurrent runs", [.. overhead], "ms", Target.None));
    table.Add(Figure.Single($"{concurrentRuns} concurrent runs x {steps} steps: throughput", concurrentRuns * steps / concurrent.Elapsed.TotalSeconds, "steps/s", Target.None));

    // 2b. The same concurrent runs spread over two nodes on this database (issue 12, ADR 0015): half posted to each,
    // each node executing what its own outbox queued. Both nodes share this process and this machine's cores, so the
    // ratio shows what coordinating through PostgreSQL costs, not what a second machine would add.
    var oneNode = concurrentRuns / concurrent.Elapsed.TotalSeconds;
    var nodeB = ConclaveApp.SecondNodeOf(app, kestrel: false);
    await nodeB.InitializeAsync();
    try
    {
        var sessionsB = nodeB.Service<ISessions>();
        CountFailures(await RunAsync(sessionsB, nodeB, Owner, planners, steps, count: 3)); // node B's handlers compile on first use
        var spread = Stopwatch.StartNew();
        var halves = await Task.WhenAll(
            RunAsync(sessions, app, Owner, planners, steps, count: concurrentRuns / 2),
            RunAsync(sessionsB, nodeB, Owner, planners, steps, count: concurrentRuns - concurrentRuns / 2));
        spread.Stop();
        CountFailures(halves.SelectMany(h => h));
        var twoNodes = concurrentRuns / spread.Elapsed.TotalSeconds;
        table.Add(Figure.Single($"{concurrentRuns} concurrent runs x {steps} steps, 1 node", oneNode, "runs/s", Target.None));
        table.Add(Figure.Single($"the same on 2 nodes (half posted to each), one database, one machine", twoNodes, "runs/s", Target.None));
        table.Add(Figure.Single("runs/s, 2 nodes vs 1", twoNodes / oneNode, "x", Target.None));
    }
    finally
    {
        await nodeB.DisposeAsync();
    }

    // 3. Stop latency: a run streaming (stalled), the stop request, RunCancelled in the log.
    var stops = new List<double>();
    for (var i = 0; i < stopRuns; i++)
    {
        var session = await app.CreateSessionAsync($"stop {i}");
        app.Provider.Enqueue(Reply.Chunks("thinking ", "forever").StallAfter(1));
        var index = app.Provider.Requests.Count;
        var posted = await app.PostMessageAsync(session.Id, "go");
        var request = await app.Provider.WaitForRequestAsync(index, TimeSpan.FromSeconds(30));
        await request.WaitForChunkSentAsync(0, TimeSpan.FromSeconds(30));
        var clicked = Stopwatch.GetTimestamp();
        var response = await app.Client.PostAsync($"/api/v1/sessions/{session.Id}/runs/{posted.RunId}/cancel", null);
        response.EnsureSuccessStatusCode();
        var end = await app.WaitForRunEndAsync(session.Id, posted.RunId, TimeSpan.FromSeconds(30));
        stops.Add(Stopwatch.GetElapsedTime(clicked).TotalMilliseconds);
        if (end.Data is not RunCancelled)
        {
            failures++;
            table.Note($"stop {i} ended the run with {end.Type}, not RunCancelled");
        }
    }

    table.Add(Figure.Of("stop latency, request to RunCancelled", stops, "ms", Target.Latency(null, 1000)));
    table.Add(Figure.Count("runs with errors, lost or duplicated events, or a stop that did not cancel", failures, "runs", Target.NoneAllowed));
    return table.ExitCode;
}
finally
{
    table.Print();
    await app.DisposeAsync();
}

// A Host alone in this process, with or without OpenTelemetry: its sequential runs' step overheads.
async Task<IReadOnlyList<double>> AloneAsync(ConclaveApp host, bool telemetry)
{
    host.ExtraSettings["Conclave:Models:Default:MaxRetries"] = "0";
    if (telemetry)
    {
        host.ExtraSettings["Conclave:Metrics:ScrapeToken"] = InstrumentedApp.ScrapeToken;
    }
    else
    {
        host.ExtraSettings["Conclave:Telemetry:Enabled"] = "false";
    }

    try
    {
        await host.InitializeAsync();
        return await SequentialStepOverheadAsync(host);
    }
    finally
    {
        await host.DisposeAsync();
    }
}

// Warm-up runs (JIT tiers, pools, Marten's compiled paths), then sequentialRuns runs one at a time: their step overheads.
async Task<IReadOnlyList<double>> SequentialStepOverheadAsync(ConclaveApp host)
{
    // An instant model: every request answered at once with a distinct line (so the loop breaker never fires).
    host.Provider.RespondWith(request => Reply.Text($"Step {request.Index} done.").InChunks(1).WithUsage(100, 10));
    var sessions = host.Service<ISessions>();
    CountFailures(await RunAsync(sessions, host, Owner, planners, steps, count: 3));
    overhead.Clear();
    for (var i = 0; i < sequentialRuns; i++)
    {
        CountFailures(await RunAsync(sessions, host, Owner, planners, steps, count: 1));
    }

    var measured = overhead.ToList();
    overhead.Clear();
    return measured;
}

void CountFailures(IEnumerable<(bool Ok, string Why)> ends)
{
    foreach (var (_, why) in ends.Where(e => !e.Ok))
    {
        failures++;
        table.Note($"a run went wrong: {why}");
    }
}

static async Task<(List<double> Milliseconds, int Series)> ScrapeAsync(InstrumentedApp app, int count)
{
    using var client = app.CreateAnonymousClient();
    client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", InstrumentedApp.ScrapeToken);
    var series = 0;
    var latencies = new List<double>();
    for (var i = 0; i < count + 3; i++)
    {
        var started = Stopwatch.GetTimestamp();
        var text = await client.GetStringAsync("/metrics");
        var took = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        // The first scrapes warm up the exporter's serializer.
        if (i >= 3)
        {
            latencies.Add(took);
        }

        series = text.Split('\n').Count(line => line.Length > 0 && line[0] != '#');
    }

    return (latencies, series);
}

static async Task<IReadOnlyList<(bool Ok, string Why)>> RunAsync(ISessions sessions, ConclaveApp app, string owner, Guid team, int steps, int count)
{
    var runs = await Task.WhenAll(Enumerable.Range(0, count).Select(async i =>
    {
        var session = await sessions.CreateAsync(owner, $"bench {i}", CancellationToken.None);
        await sessions.ChooseTeamAsync(owner, session.Id, team, "Planner-Coder-Critic", CancellationToken.None);
        var posted = await sessions.PostMessageAsync(owner, session.Id, $"Work in {steps} steps", new RunOverrides(MaxTurns: steps), CancellationToken.None);
        return (session.Id, posted.RunId);
    }));
    return await Task.WhenAll(runs.Select(async r =>
    {
        var end = await app.WaitForRunEndAsync(r.Id, r.RunId, TimeSpan.FromMinutes(5));
        var events = await app.EventsAsync(r.Id);
        var messages = events.Select(e => e.Data).OfType<AgentMessageCompleted>().ToList();
        var contiguous = events.Select(e => e.Version).SequenceEqual(Enumerable.Range(1, events.Count).Select(v => (long)v));
        var ok = end.Data is RunCompleted && messages.Count == steps && messages.Select(m => m.MessageId).Distinct().Count() == steps && contiguous;
        return (ok, ok ? "" : $"{end.Type}, {messages.Count} messages, contiguous {contiguous}");
    }));
}

/// <summary>The Host with spans exported through a batch processor, as an OTLP exporter would be fed, to an exporter that counts them.</summary>
internal sealed class InstrumentedApp : ConclaveApp
{
    public const string ScrapeToken = "bench-scrape-token-0123456789abcdef";

    public CountingExporter Exported { get; } = new();

    protected override void ConfigureHost(IWebHostBuilder builder) =>
        builder.ConfigureServices(services => services.ConfigureOpenTelemetryTracerProvider(
            tracing => tracing.AddProcessor(new BatchActivityExportProcessor(Exported))));
}

internal sealed class CountingExporter : BaseExporter<Activity>
{
    private long _count;

    public long Count => Interlocked.Read(ref _count);

    public override ExportResult Export(in Batch<Activity> batch)
    {
        Interlocked.Add(ref _count, batch.Count);
        return ExportResult.Success;
    }
}
