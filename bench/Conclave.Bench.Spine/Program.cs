using System.Diagnostics;
using System.Net.ServerSentEvents;
using System.Text.Json;
using Conclave.Bench.Spine;
using Conclave.Sessions.Contracts;
using Conclave.Testing;
using Conclave.Testing.Host;

// Prints the spine's figures: live delivery, replay, token relay and time-to-first-token, over
// real HTTP (Kestrel on loopback) against a real PostgreSQL. Run: dotnet run -c Release --project bench/Conclave.Bench.Spine
var app = ConclaveApp.OnKestrel();
await app.InitializeAsync();
using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1000 })
{
    BaseAddress = app.BaseAddress,
    Timeout = Timeout.InfiniteTimeSpan,
};
try
{
    var figures = new List<Figure>
    {
        // Paced: an event every ~10 ms after the previous one was delivered (a busy session), the latency figure.
        await Bench.AppendToDeliveryAsync(app, http, subscribers: 100, appends: 200, pause: TimeSpan.FromMilliseconds(10)),
        // Back to back: the next append as soon as all 100 got the previous one (saturation, for comparison).
        await Bench.AppendToDeliveryAsync(app, http, subscribers: 100, appends: 200, pause: TimeSpan.Zero),
        await Bench.ReplayAsync(app, http, events: 10_000, clients: 30),
        await Bench.TokenRelayAsync(app, http, chunks: 300),
        await Bench.TimeToFirstTokenAsync(app, http, posts: 60),
    };
    Table.Print(figures);
    return figures.All(f => f.Passed) ? 0 : 1;
}
finally
{
    await app.DisposeAsync();
}

internal static class Bench
{
    private static double Ms(long from, long to) => (to - from) * 1000.0 / Stopwatch.Frequency;

    /// <summary>One event appended; each of N SSE subscribers times its arrival.</summary>
    public static async Task<Figure> AppendToDeliveryAsync(ConclaveApp app, HttpClient http, int subscribers, int appends, TimeSpan pause)
    {
        var session = await app.CreateSessionAsync("delivery");
        var log = app.Service<ISessionLog>();
        var alone = new List<double>();
        for (var i = 0; i < 100; i++)
        {
            var t0 = Stopwatch.GetTimestamp();
            await log.AppendAsync(session.Id, [new SessionRenamed($"warm{i}", DateTimeOffset.UtcNow)], CancellationToken.None);
            alone.Add(Ms(t0, Stopwatch.GetTimestamp()));
        }

        alone.Sort();
        Console.WriteLine($"(an append alone, no subscriber: p50 {alone[50]:F2} ms, p99 {alone[98]:F2} ms)");
        var baseVersion = 1 + 100;
        // The first appends with everyone connected warm the path up (JIT tiers, pools) and are not counted.
        const int Warmup = 50;
        var total = Warmup + appends;
        var sentAt = new long[total + 1];
        var committedAt = new long[total + 1];
        var samples = new System.Collections.Concurrent.ConcurrentBag<double>();
        var fanout = new System.Collections.Concurrent.ConcurrentBag<double>();
        var remaining = 0;
        var delivered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var connected = 0;
        var allConnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var cts = new CancellationTokenSource();
        var readers = Enumerable.Range(0, subscribers).Select(_ => Task.Run(async () =>
        {
            await foreach (var item in SseClient.ReadAsync(http, session.Id, lastEventId: baseVersion - 1, cts.Token))
            {
                var now = Stopwatch.GetTimestamp();
                if (item.EventType != "log")
                {
                    continue;
                }

                var n = long.Parse(item.EventId!) - baseVersion;
                if (n == 0)
                {
                    if (Interlocked.Increment(ref connected) == subscribers)
                    {
                        allConnected.TrySetResult();
                    }

                    continue;
                }

                if (n > Warmup)
                {
                    samples.Add(Ms(sentAt[n], now));
                    fanout.Add(Ms(committedAt[n], now));
                }

                if (Interlocked.Decrement(ref remaining) == 0)
                {
                    delivered.TrySetResult();
                }

                if (n == total)
                {
                    break;
                }
            }
        })).ToList();
        await allConnected.Task.WaitAsync(TimeSpan.FromSeconds(30));

        for (var n = 1; n <= total; n++)
        {
            delivered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref remaining, subscribers);
            sentAt[n] = Stopwatch.GetTimestamp();
            await log.AppendAsync(session.Id, [new SessionRenamed($"t{n}", DateTimeOffset.UtcNow)], CancellationToken.None);
            committedAt[n] = Stopwatch.GetTimestamp();
            await delivered.Task.WaitAsync(TimeSpan.FromSeconds(10));
            if (pause > TimeSpan.Zero)
            {
                await Task.Delay(pause);
            }
        }

        await Task.WhenAll(readers);
        var appendTimes = Enumerable.Range(Warmup + 1, appends).Select(n => Ms(sentAt[n], committedAt[n])).Order().ToArray();
        Console.WriteLine($"(the append calls themselves, subscribers connected: p50 {appendTimes[appends / 2]:F2} ms)");
        var spread = fanout.Order().ToArray();
        Console.WriteLine($"(of which after the append returned: p50 {spread[spread.Length / 2]:F2} ms, p99 {spread[(int)(spread.Length * 0.99)]:F2} ms; negative = delivered before the append call returned)");
        var pacing = pause > TimeSpan.Zero ? $"paced {pause.TotalMilliseconds:0} ms" : "back to back";
        return new Figure($"append -> delivery, {subscribers} SSE subscribers, {pacing}", samples.ToList(), "p50<=5, p99<=25", 5, 25);
    }

    /// <summary>A new SSE client on a 10,000-event session: connect until the last event arrives.</summary>
    public static async Task<Figure> ReplayAsync(ConclaveApp app, HttpClient http, int events, int clients)
    {
        var session = await app.CreateSessionAsync("replay");
        var log = app.Service<ISessionLog>();
        for (var appended = 1; appended < events; appended += 500)
        {
            var batch = Enumerable.Range(0, Math.Min(500, events - appended))
                .Select(i => (object)new SessionRenamed($"r{appended + i}", DateTimeOffset.UtcNow)).ToList();
            await log.AppendAsync(session.Id, batch, CancellationToken.None);
        }

        var reads = new List<double>();
        for (var r = 0; r < 8; r++)
        {
            var t0 = Stopwatch.GetTimestamp();
            await log.ReadAsync(session.Id, 0, CancellationToken.None);
            reads.Add(Ms(t0, Stopwatch.GetTimestamp()));
        }

        Console.WriteLine($"(store read of {events:N0} events alone: {string.Join(", ", reads.Select(r => r.ToString("F0")))} ms)");
        var samples = new List<double>();
        for (var c = 0; c < clients + 3; c++)
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var start = Stopwatch.GetTimestamp();
            await foreach (var item in SseClient.ReadAsync(http, session.Id, lastEventId: null, cts.Token))
            {
                if (item.EventType == "log" && item.EventId == events.ToString())
                {
                    break;
                }
            }

            if (c >= 3)
            {
                samples.Add(Ms(start, Stopwatch.GetTimestamp())); // the first 3 warm up JIT and caches
            }
        }

        return new Figure($"replay of {events:N0} events to a new SSE client", samples, "<=150 (p50 and p99)", 150, 150);
    }

    /// <summary>The scripted provider flushes a chunk; an SSE client receives the delta.</summary>
    public static async Task<Figure> TokenRelayAsync(ConclaveApp app, HttpClient http, int chunks)
    {
        var session = await app.CreateSessionAsync("relay");
        var gate = new ChunkGate();
        app.Provider.Enqueue(Reply.Chunks(Enumerable.Range(0, chunks).Select(i => $"t{i} ").ToArray()).Gated(gate));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var received = new List<long>();
        var connected = new TaskCompletionSource();
        var next = new SemaphoreSlim(0);
        var reader = Task.Run(async () =>
        {
            await foreach (var item in SseClient.ReadAsync(http, session.Id, lastEventId: null, cts.Token))
            {
                var now = Stopwatch.GetTimestamp();
                if (item.EventType == "log" && item.Data.Contains("\"SessionStarted\""))
                {
                    connected.TrySetResult();
                }

                if (item.EventType is "delta" or "partial")
                {
                    received.Add(now);
                    next.Release();
                }

                if (item.EventType == "log" && item.Data.Contains("\"RunCompleted\""))
                {
                    break;
                }
            }
        });
        await connected.Task;
        var index = app.Provider.Requests.Count;
        await app.PostMessageAsync(session.Id, "stream to me");
        await app.Provider.WaitForRequestAsync(index, TimeSpan.FromSeconds(10));
        for (var i = 0; i < chunks; i++)
        {
            gate.Release();
            if (!await next.WaitAsync(TimeSpan.FromSeconds(10)))
            {
                throw new TimeoutException($"Chunk {i} was not relayed.");
            }
        }

        await reader;
        var sent = gate.ChunkSentAt;
        var samples = Enumerable.Range(5, chunks - 5).Select(i => Ms(sent[i], received[i])).ToList();
        return new Figure("token relay: provider chunk -> SSE delta", samples, "p50<=2, p99<=10", 2, 10);
    }

    /// <summary>POST of a message until the provider receives the completion request.</summary>
    public static async Task<Figure> TimeToFirstTokenAsync(ConclaveApp app, HttpClient http, int posts)
    {
        var session = await app.CreateSessionAsync("ttft");
        var samples = new List<double>();
        for (var i = 0; i < posts + 5; i++)
        {
            var index = app.Provider.Requests.Count;
            var start = Stopwatch.GetTimestamp();
            using var response = await http.PostAsync(
                $"/api/v1/sessions/{session.Id}/messages",
                JsonContent(new { text = $"question {i}" }));
            response.EnsureSuccessStatusCode();
            var request = await app.Provider.WaitForRequestAsync(index, TimeSpan.FromSeconds(10));
            var posted = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("runId").GetGuid();
            await app.WaitForRunEndAsync(session.Id, posted);
            if (i >= 5)
            {
                samples.Add(Ms(start, request.ReceivedAt));
            }
        }

        return new Figure("time to first token: POST -> provider request", samples, "p95<=50", 50, 50, TailPercentile: 95);
    }

    private static StringContent JsonContent(object value) =>
        new(JsonSerializer.Serialize(value), System.Text.Encoding.UTF8, "application/json");
}
