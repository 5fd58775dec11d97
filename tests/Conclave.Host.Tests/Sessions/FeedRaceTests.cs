using Conclave.Sessions.Contracts;
using Conclave.Testing.Host;

namespace Conclave.Host.Tests.Sessions;

/// <summary>
/// The reconnect race of the old system: a client that resumes from version N while events are
/// being appended must see every later version exactly once, in order.
/// </summary>
[Collection(SharedHost.Name)]
public sealed class FeedRaceTests(ConclaveApp app)
{
    [Fact]
    public async Task Clients_reconnecting_at_random_versions_during_concurrent_appends_see_every_version_once_in_order()
    {
        const int Appends = 300;
        const int Clients = 40;
        var session = await app.CreateSessionAsync("race");
        var log = app.Service<ISessionLog>();
        var feed = app.Service<ISessionFeed>();
        var final = 1 + Appends;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        // Two writers append concurrently (like the API and a run) while clients come and go.
        var writers = Enumerable.Range(0, 2).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < Appends / 2; i++)
            {
                await log.AppendAsync(session.Id, [new SessionRenamed($"w{w}-{i}", DateTimeOffset.UtcNow)], deadline.Token);
            }
        })).ToList();

        var clients = Enumerable.Range(0, Clients).Select(c => Task.Run(async () =>
        {
            var seen = new List<long>();
            long last = 0;
            var rng = new Random(c);
            // Each client drops and resumes from where it was several times, at random moments.
            while (last < final)
            {
                var budget = rng.Next(1, 40);
                await foreach (var item in feed.SubscribeAsync(session.Id, last, deadline.Token))
                {
                    if (item is FeedEvent { Event.Version: var version })
                    {
                        seen.Add(version);
                        last = version;
                        if (--budget == 0 || last == final)
                        {
                            break;
                        }
                    }
                }
            }

            return seen;
        })).ToList();

        await Task.WhenAll(writers);
        var results = await Task.WhenAll(clients);

        var expected = Enumerable.Range(1, final).Select(v => (long)v).ToList();
        Assert.All(results, seen => Assert.Equal(expected, seen));
        Assert.Equal(final, (await log.ReadAsync(session.Id, 0, CancellationToken.None)).Count);
    }

    [Fact]
    public async Task A_subscriber_from_any_version_gets_exactly_the_events_after_it()
    {
        var session = await app.CreateSessionAsync("exact");
        var log = app.Service<ISessionLog>();
        for (var i = 0; i < 20; i++)
        {
            await log.AppendAsync(session.Id, [new SessionRenamed($"t{i}", DateTimeOffset.UtcNow)], CancellationToken.None);
        }

        foreach (var after in new long[] { 0, 1, 10, 20, 21 })
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            var seen = new List<long>();
            if (after < 21)
            {
                await foreach (var item in app.Service<ISessionFeed>().SubscribeAsync(session.Id, after, cts.Token))
                {
                    seen.Add(((FeedEvent)item).Event.Version);
                    if (seen[^1] == 21)
                    {
                        break;
                    }
                }
            }

            Assert.Equal(Enumerable.Range((int)after + 1, 21 - (int)after).Select(v => (long)v), seen);
        }
    }
}
