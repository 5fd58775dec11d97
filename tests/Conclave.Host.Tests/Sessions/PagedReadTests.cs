using System.Net;
using System.Net.Http.Json;
using Conclave.Sessions.Contracts;
using Conclave.Testing.Host;

namespace Conclave.Host.Tests.Sessions;

/// <summary>The log is read in bounded pages: a long catch-up arrives whole, an event page is bounded in events and in size.</summary>
[Collection(SharedHost.Name)]
public sealed class PagedReadTests(ConclaveApp app)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_catch_up_longer_than_a_page_arrives_whole_in_order_and_once()
    {
        var session = await app.CreateSessionAsync();
        var last = await app.Service<ISessionLog>().AppendAsync(
            session.Id, Enumerable.Range(0, 1_234).Select(i => (object)new SessionRenamed($"title {i}", DateTimeOffset.UtcNow)).ToList(), CancellationToken.None);

        var versions = new List<long>();
        using var deadline = new CancellationTokenSource(Deadline);
        await foreach (var item in app.Service<ISessionFeed>().SubscribeAsync(session.Id, 0, deadline.Token))
        {
            if (item is FeedEvent { Event.Version: var version })
            {
                versions.Add(version);
                if (version == last)
                {
                    break;
                }
            }
        }

        Assert.Equal(Enumerable.Range(1, (int)last).Select(v => (long)v), versions);
    }

    [Fact]
    public async Task An_event_page_holds_at_most_its_limit_and_ends_early_when_its_events_are_long()
    {
        var session = await app.CreateSessionAsync();
        var log = app.Service<ISessionLog>();
        // Twenty-five messages of 200,000 characters: five million characters, more than one page holds.
        var longText = new string('m', 200_000);
        await log.AppendAsync(
            session.Id, Enumerable.Range(0, 25).Select(_ => (object)new UserMessagePosted(Guid.NewGuid(), "local", longText, DateTimeOffset.UtcNow)).ToList(), CancellationToken.None);
        var last = await log.AppendAsync(
            session.Id, Enumerable.Range(0, 1_100).Select(i => (object)new SessionRenamed($"t{i}", DateTimeOffset.UtcNow)).ToList(), CancellationToken.None);

        var versions = new List<long>();
        var pageSizes = new List<int>();
        for (long after = 0; ;)
        {
            var page = (await app.Client.GetFromJsonAsync<EventPageDto>($"/api/v1/sessions/{session.Id}/events?after={after}&limit=1000", Json.Options))!;
            pageSizes.Add(page.Events.Count);
            versions.AddRange(page.Events.Select(e => e.Version));
            after = page.LastVersion;
            if (!page.HasMore)
            {
                break;
            }
        }

        Assert.Equal(Enumerable.Range(1, (int)last).Select(v => (long)v), versions);
        Assert.All(pageSizes, size => Assert.InRange(size, 1, 1000));
        Assert.True(pageSizes[0] < 26, $"the first page held {pageSizes[0]} events, {pageSizes[0] * 200_000L:N0} characters of messages");
        Assert.Contains(1000, pageSizes);
    }

    [Fact]
    public async Task An_event_page_of_more_than_a_thousand_events_is_refused_naming_the_limit()
    {
        var session = await app.CreateSessionAsync();

        var response = await app.Client.GetAsync($"/api/v1/sessions/{session.Id}/events?limit=1001");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains($"between 1 and {SessionLimits.MaxEventPage}", await response.Content.ReadAsStringAsync());
    }

    private sealed record EventPageDto(IReadOnlyList<EventDto> Events, long LastVersion, bool HasMore);

    private sealed record EventDto(long Version, string Type);
}
