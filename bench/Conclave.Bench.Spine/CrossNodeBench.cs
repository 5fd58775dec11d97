using System.Diagnostics;
using System.Globalization;
using Conclave.Bench.Common;
using Conclave.Sessions.Contracts;
using Conclave.Testing.Host;

namespace Conclave.Bench.Spine;

/// <summary>
/// Cross-node delivery (ADR 0015): events appended on node A (the <see cref="SpineApp"/>), N SSE
/// subscribers on node B (a second Host on the same database, its own Kestrel). B learns of A's
/// commits only through PostgreSQL's NOTIFY and reads them from the store. One event at a time, the
/// next once every subscriber has read the previous one, then a pause (a busy session).
/// </summary>
internal static class CrossNodeBench
{
    public static async Task<IReadOnlyList<Figure>> RunAsync(SpineApp nodeA, ConclaveApp nodeB, int subscribers, int warmup, int appends, TimeSpan pause)
    {
        await using var anchor = await BareNotify.CreateAsync(nodeA.ConnectionString);
        var bare = new List<double>();
        var session = await nodeA.CreateSessionAsync("cross-node");
        var log = nodeA.Service<ISessionLog>();
        var baseVersion = await log.AppendAsync(session.Id, [new SessionRenamed("cross-node base", DateTimeOffset.UtcNow)], CancellationToken.None);
        var total = warmup + appends;
        var sentAt = new long[total];
        var tokens = await nodeB.SignInForTokensAsync(ConclaveApp.DefaultUserName);
        var readers = new SubscriberSet(
            Enumerable.Range(0, subscribers).Select(_ => nodeB.CreateBearerClient(tokens.AccessToken)).ToList(), session.Id, baseVersion, total);
        await readers.ConnectedAsync("every subscriber on node B connected");
        for (var n = 0; n < total; n++)
        {
            readers.Expect();
            sentAt[n] = Stopwatch.GetTimestamp();
            await log.AppendAsync(session.Id, [new SessionRenamed($"from A {n}", DateTimeOffset.UtcNow)], CancellationToken.None);
            await readers.DeliveredAsync($"every subscriber on node B read event {n + 1}");
            if (pause > TimeSpan.Zero)
            {
                var paused = Stopwatch.GetTimestamp();
                var roundTrip = await anchor.RoundTripAsync(n);
                if (n >= warmup)
                {
                    bare.Add(roundTrip);
                }

                var rest = pause - Stopwatch.GetElapsedTime(paused);
                if (rest > TimeSpan.Zero)
                {
                    await Task.Delay(rest);
                }
            }
        }

        await readers.FinishAsync();

        var samples = Enumerable.Range(warmup, appends)
            .SelectMany(n => Enumerable.Range(0, subscribers).Select(s => Stopwatch.GetElapsedTime(sentAt[n], readers.ReadAt[s][n]).TotalMilliseconds))
            .ToList();
        return
        [
            Figure.Of($"append on node A -> SSE client on node B, {subscribers} subscribers", samples, "ms", Target.Latency(null, 50)),
            Figure.Of("  a bare NOTIFY -> LISTEN round trip, in the pauses between those", bare, "ms", Target.None),
        ];
    }
}
