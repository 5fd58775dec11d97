using System.Diagnostics;
using System.Globalization;
using Conclave.Bench.Common;
using Conclave.Sessions.Contracts;
using Conclave.Testing.Host;

namespace Conclave.Bench.Spine;

/// <summary>A new SSE client on a long session: from connecting until its last event arrives.</summary>
internal static class ReplayBench
{
    private const int Warmup = 3;

    public static async Task<IReadOnlyList<Figure>> RunAsync(SpineApp app, int events, int clients)
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
        for (var r = 0; r < Warmup + clients; r++)
        {
            var started = Stopwatch.GetTimestamp();
            await log.ReadAsync(session.Id, 0, CancellationToken.None);
            if (r >= Warmup)
            {
                reads.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }

        var last = events.ToString(CultureInfo.InvariantCulture);
        var replays = new List<double>();
        for (var c = 0; c < Warmup + clients; c++)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var started = Stopwatch.GetTimestamp();
            await foreach (var item in SseClient.ReadAsync(app.Client, session.Id, lastEventId: null, timeout.Token))
            {
                if (item.EventType == "log" && item.EventId == last)
                {
                    break;
                }
            }

            if (c >= Warmup)
            {
                replays.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }

        return
        [
            Figure.Of($"replay of {events:N0} events to a new SSE client", replays, "ms", Target.Latency(150, 150)),
            Figure.Of($"  the store read of {events:N0} events alone (no HTTP)", reads, "ms", Target.None),
        ];
    }
}
