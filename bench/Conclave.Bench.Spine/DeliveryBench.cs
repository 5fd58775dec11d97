using System.Diagnostics;
using System.Globalization;
using Conclave.Bench.Common;
using Conclave.Sessions.Contracts;
using Conclave.Testing.Host;

namespace Conclave.Bench.Spine;

/// <summary>The headline figure (append to delivery to every subscriber) and where its time goes.</summary>
internal sealed record Delivery(Figure Headline, IReadOnlyList<Figure> Breakdown);

/// <summary>
/// One event appended at a time to a session that N SSE subscribers, signed in as its owner, watch;
/// the next append once every subscriber has read the previous event. Each subscriber times each
/// arrival; the <see cref="DeliveryProbe"/> times the steps in between inside the Host.
/// </summary>
internal static class DeliveryBench
{
    public static async Task<Delivery> RunAsync(SpineApp app, int subscribers, int warmup, int appends, int appendsAlone, TimeSpan pause)
    {
        var session = await app.CreateSessionAsync("delivery");
        var log = app.Service<ISessionLog>();
        await using var anchor = await BareCommit.CreateAsync(app.ConnectionString);
        var alone = new List<double>();
        var bare = new List<double>();
        long baseVersion = 0;
        for (var i = 0; i < warmup + appendsAlone; i++)
        {
            var started = Stopwatch.GetTimestamp();
            baseVersion = await log.AppendAsync(session.Id, [new SessionRenamed($"alone {i}", DateTimeOffset.UtcNow)], CancellationToken.None);
            var appended = Stopwatch.GetTimestamp();
            await anchor.InsertAsync();
            if (i >= warmup)
            {
                alone.Add(Ms(started, appended));
                bare.Add(Ms(appended, Stopwatch.GetTimestamp()));
            }
        }

        // Event n (1..total) is version baseVersion + n; each subscriber starts by reading baseVersion from the store.
        var total = warmup + appends;
        app.Probe.Watch(session.Id, subscribers, baseVersion + 1, total);
        var sentAt = new long[total];
        var committedAt = new long[total];
        var bareLive = new List<double>();
        var clients = await app.OwnerClientsAsync(subscribers);
        for (var s = 0; s < subscribers; s++)
        {
            clients[s].DefaultRequestHeaders.Add(DeliveryProbe.SubscriberHeader, s.ToString(CultureInfo.InvariantCulture));
        }

        var readers = new SubscriberSet(clients, session.Id, baseVersion, total);
        await readers.ConnectedAsync("every subscriber connected");
        for (var n = 0; n < total; n++)
        {
            readers.Expect();
            sentAt[n] = Stopwatch.GetTimestamp();
            await log.AppendAsync(session.Id, [new SessionRenamed($"live {n}", DateTimeOffset.UtcNow)], CancellationToken.None);
            committedAt[n] = app.Probe.LastCommitAt;
            await readers.DeliveredAsync($"every subscriber read event {n + 1}");
            if (pause > TimeSpan.Zero)
            {
                var paused = Stopwatch.GetTimestamp();
                await anchor.InsertAsync();
                if (n >= warmup)
                {
                    bareLive.Add(Ms(paused, Stopwatch.GetTimestamp()));
                }

                var rest = pause - Stopwatch.GetElapsedTime(paused);
                if (rest > TimeSpan.Zero)
                {
                    await Task.Delay(rest);
                }
            }
        }

        await readers.FinishAsync();

        var counted = Enumerable.Range(warmup, appends).ToList();
        var perSubscriber = counted.SelectMany(n => Enumerable.Range(0, subscribers).Select(s => (s, n))).ToList();
        var probe = app.Probe;
        if (counted.Any(n => committedAt[n] < sentAt[n]) || perSubscriber.Any(x => probe.WrittenAt[x.s][x.n] == 0))
        {
            throw new InvalidOperationException("The probe missed a commit or a write: is it wired into the Host (SpineApp)?");
        }

        List<double> Between(Func<int, int, long> from, Func<int, int, long> to) =>
            perSubscriber.Select(x => Ms(from(x.s, x.n), to(x.s, x.n))).ToList();

        var pacing = pause > TimeSpan.Zero ? $"paced {pause.TotalMilliseconds:0} ms" : "back to back";
        var headline = Figure.Of($"append -> delivery, {subscribers} SSE subscribers, {pacing}", Between((_, n) => sentAt[n], (s, n) => readers.ReadAt[s][n]), "ms", Target.Latency(5, 25));
        return new Delivery(headline,
        [
            Figure.Of("  append alone, no subscriber connected", alone, "ms", Target.None),
            Figure.Of("    a bare PostgreSQL insert + commit, between those appends", bare, "ms", Target.None),
            Figure.Of("  append called -> committed, subscribers connected", counted.Select(n => Ms(sentAt[n], committedAt[n])).ToList(), "ms", Target.None),
            Figure.Of("    a bare PostgreSQL insert + commit, in the pauses between those", bareLive, "ms", Target.None),
            Figure.Of("  committed -> live feed's notification", Between((_, n) => committedAt[n], (s, n) => probe.NotifiedAt[s][n]), "ms", Target.None),
            Figure.Of("  notification -> SSE write", Between((s, n) => probe.NotifiedAt[s][n], (s, n) => probe.WrittenAt[s][n]), "ms", Target.None),
            Figure.Of("  SSE write -> client read", Between((s, n) => probe.WrittenAt[s][n], (s, n) => readers.ReadAt[s][n]), "ms", Target.None),
            Figure.Of("  append called -> SSE write (the server's part)", Between((_, n) => sentAt[n], (s, n) => probe.WrittenAt[s][n]), "ms", Target.None),
        ]);
    }

    private static double Ms(long from, long to) => Stopwatch.GetElapsedTime(from, to).TotalMilliseconds;
}
