using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Conclave.Sessions.Contracts;
using Conclave.Testing;
using Conclave.Testing.Host;

// Prints the orchestrator's figures (issue 4): overhead per persisted step with an instant scripted
// model, 50 concurrent runs x 20 steps on this machine, and stop latency (request to RunCancelled).
// Run: source .data/env.sh; Logging__LogLevel__Default=Warning dotnet run -c Release --project bench/Conclave.Bench.Runs
var planners = new Guid("00000000-0000-7000-8000-0000000000c3"); // Planner-Coder-Critic: three agents in turn, no keyword from text here
var app = new ConclaveApp();
app.ExtraSettings["Conclave:Models:Default:MaxRetries"] = "0";
await app.InitializeAsync();
// An instant model: every request answered at once with a distinct line (so the loop breaker never fires).
app.Provider.RespondWith(request => Reply.Text($"Step {request.Index} done.").InChunks(1).WithUsage(100, 10));
var overhead = new ConcurrentBag<double>();
using var listener = new MeterListener
{
    InstrumentPublished = (instrument, l) =>
    {
        if (instrument.Meter.Name == "Conclave.Agents" && instrument.Name == "conclave.run.step.overhead")
        {
            l.EnableMeasurementEvents(instrument);
        }
    },
};
listener.SetMeasurementEventCallback<double>((_, value, _, _) => overhead.Add(value));
listener.Start();
var failures = 0;
try
{
    var sessions = app.Service<ISessions>();
    const string Owner = "bench";

    // Warm up: JIT tiers, pools, Marten's compiled paths.
    await RunAsync(sessions, app, Owner, planners, steps: 20, count: 3);
    overhead.Clear();

    // 1. One run at a time: per-step overhead and the wall time of a step with an instant model.
    var single = Stopwatch.StartNew();
    for (var i = 0; i < 10; i++)
    {
        failures += (await RunAsync(sessions, app, Owner, planners, steps: 20, count: 1)).Count(e => !e.Ok);
    }

    single.Stop();
    var oneAtATime = overhead.ToArray();
    Console.WriteLine($"one run at a time: 10 runs x 20 steps in {single.Elapsed.TotalSeconds:F2} s = {200 / single.Elapsed.TotalSeconds:F0} steps/s, {single.Elapsed.TotalMilliseconds / 200:F2} ms per step incl. the model call");
    Print("step overhead, one run at a time (persisting included)", oneAtATime, p50Target: 10, p99Target: 50);

    // 2. 50 concurrent runs x 20 steps.
    overhead.Clear();
    var concurrent = Stopwatch.StartNew();
    var ends = await RunAsync(sessions, app, Owner, planners, steps: 20, count: 50);
    concurrent.Stop();
    var lost = ends.Count(e => !e.Ok);
    failures += lost;
    Console.WriteLine($"50 concurrent runs x 20 steps: {1000 / concurrent.Elapsed.TotalSeconds:F0} steps/s ({concurrent.Elapsed.TotalSeconds:F2} s), " +
                      $"{lost} run(s) with errors, lost or duplicated events");
    Print("step overhead, 50 concurrent runs", overhead.ToArray(), p50Target: double.MaxValue, p99Target: double.MaxValue);

    // 3. Stop latency: a run streaming (stalled), the stop request, RunCancelled in the log.
    var stops = new List<double>();
    for (var i = 0; i < 30; i++)
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
        }
    }

    Print("stop latency, request to RunCancelled", [.. stops], p50Target: double.MaxValue, p99Target: 1000);
    Console.WriteLine(failures == 0 ? "no errors" : $"{failures} error(s)");
    return failures == 0 ? 0 : 1;
}
finally
{
    await app.DisposeAsync();
}

static async Task<IReadOnlyList<(bool Ok, string Why)>> RunAsync(ISessions sessions, ConclaveApp app, string owner, Guid team, int steps, int count)
{
    var runs = await Task.WhenAll(Enumerable.Range(0, count).Select(async i =>
    {
        var session = await sessions.CreateAsync(owner, $"bench {i}", CancellationToken.None);
        await sessions.ChooseTeamAsync(owner, session.Id, team, "Planner-Coder-Critic", CancellationToken.None);
        var posted = await sessions.PostMessageAsync(owner, session.Id, "Work in 20 steps", new RunOverrides(MaxTurns: steps), CancellationToken.None);
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

static void Print(string name, double[] samples, double p50Target, double p99Target)
{
    Array.Sort(samples);
    double P(double p) => samples.Length == 0 ? double.NaN : samples[Math.Clamp((int)Math.Ceiling(p / 100 * samples.Length) - 1, 0, samples.Length - 1)];
    var target = p50Target == double.MaxValue && p99Target == double.MaxValue ? "(reported)"
        : p50Target == double.MaxValue ? $"p99 <= {p99Target} ms" : $"p50 <= {p50Target} ms, p99 <= {p99Target} ms";
    var pass = P(50) <= p50Target && P(99) <= p99Target;
    Console.WriteLine($"{name,-56} n={samples.Length,5}  p50 {P(50),8:F2} ms  p99 {P(99),8:F2} ms  max {samples.LastOrDefault(),8:F2} ms  {target} {(target == "(reported)" ? "" : pass ? "PASS" : "FAIL")}");
}
