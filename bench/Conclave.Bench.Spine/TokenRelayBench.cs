using System.Diagnostics;
using Conclave.Bench.Common;
using Conclave.Testing;
using Conclave.Testing.Host;

namespace Conclave.Bench.Spine;

/// <summary>The scripted provider flushes a chunk; an SSE client of the session receives the delta.</summary>
internal static class TokenRelayBench
{
    private const int Warmup = 5;

    public static async Task<Figure> RunAsync(SpineApp app, int chunks)
    {
        var session = await app.CreateSessionAsync("relay");
        var gate = new ChunkGate();
        app.Provider.Enqueue(Reply.Chunks(Enumerable.Range(0, Warmup + chunks).Select(i => $"t{i} ").ToArray()).Gated(gate));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var received = new List<long>();
        var connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var next = new SemaphoreSlim(0);
        var reader = Task.Run(async () =>
        {
            await foreach (var item in SseClient.ReadAsync(app.Client, session.Id, lastEventId: null, timeout.Token))
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
        await connected.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var index = app.Provider.Requests.Count;
        await app.PostMessageAsync(session.Id, "stream to me");
        await app.Provider.WaitForRequestAsync(index, TimeSpan.FromSeconds(10));
        for (var i = 0; i < Warmup + chunks; i++)
        {
            gate.Release();
            if (!await next.WaitAsync(TimeSpan.FromSeconds(10)))
            {
                throw new TimeoutException($"Chunk {i} was not relayed.");
            }
        }

        await reader;
        var sent = gate.ChunkSentAt;
        var samples = Enumerable.Range(Warmup, chunks).Select(i => Stopwatch.GetElapsedTime(sent[i], received[i]).TotalMilliseconds).ToList();
        return Figure.Of("token relay: provider chunk -> SSE delta", samples, "ms", Target.Latency(2, 10));
    }
}
