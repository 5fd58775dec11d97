using Conclave.Host.Components.Session;
using Conclave.Sessions.Contracts;
using Conclave.Testing;
using Conclave.Testing.Host;
using Microsoft.Playwright;

namespace Conclave.EndToEnd.Tests;

/// <summary>Long lists drawn in part (ADR 0017): a timeline of 2,000 events, a sidebar of hundreds of sessions.</summary>
public sealed class LongListTests(BrowserApp app) : IClassFixture<BrowserApp>
{
    private const int Events = 2000;
    private const int Exchanges = Events / LongSessions.EventsPerExchange;

    [Fact]
    public async Task A_session_of_2000_events_opens_at_its_latest_message_and_scrolling_up_adds_the_earlier_entries()
    {
        var session = await LongSessions.CreateAsync(app, "A long history", Events);
        var page = await app.OpenAsync($"/sessions/{session.Id}");
        var entries = page.Locator("#timeline > [data-testid=entry]");

        var latest = page.Locator("[data-testid=entry][data-kind=Agent]").Filter(new() { HasText = LongSessions.Closing(Exchanges) });
        await Assertions.Expect(latest).ToBeInViewportAsync();
        Assert.Equal(Timeline.OpeningEntries, await entries.CountAsync());
        // The last message's keyboard actions are there: ↑ in the message box edits it, Retry runs it again.
        await Assertions.Expect(page.GetByTestId("edit-last")).ToHaveCountAsync(1);
        await Assertions.Expect(page.GetByTestId("retry")).ToHaveCountAsync(1);

        // Scrolled to the top, the page before is added above, and what the reader was at stays in view.
        var firstDrawn = await entries.First.GetAttributeAsync("data-version");
        await page.EvaluateAsync("() => window.scrollTo(0, 0)");
        var drawn = Timeline.OpeningEntries + Timeline.EarlierEntries;
        await Assertions.Expect(entries).ToHaveCountAsync(drawn);
        await Assertions.Expect(page.Locator($"#timeline > [data-version='{firstDrawn}']")).ToBeInViewportAsync();

        // Up to the first question, a page at a time.
        while (await page.GetByTestId("load-earlier").CountAsync() > 0)
        {
            // The page before is placed (the reader's entry put back where it was) just after it is drawn; a scroll in
            // between is taken by that placing, as a wheel's first notch would be, so scroll once it is done.
            await page.WaitForFunctionAsync("() => window.conclave.earlierAnchor === null");
            await page.EvaluateAsync("() => window.scrollTo(0, 0)");
            drawn = Math.Min(drawn + Timeline.EarlierEntries, 4 * Exchanges);
            await Assertions.Expect(entries).ToHaveCountAsync(drawn);
        }

        await Assertions.Expect(entries.First).ToContainTextAsync(LongSessions.Question(1));
        await Assertions.Expect(latest).ToHaveCountAsync(1);
    }

    [Fact]
    public async Task A_new_answer_in_a_long_session_streams_in_below_its_latest_message()
    {
        var session = await LongSessions.CreateAsync(app, "A long history, continued", Events);
        var page = await app.OpenAsync($"/sessions/{session.Id}");
        await Assertions.Expect(page.Locator("[data-testid=entry]").Filter(new() { HasText = LongSessions.Closing(Exchanges) })).ToBeInViewportAsync();
        var gate = new ChunkGate();
        app.Provider.Enqueue(Reply.Chunks("Fresh words ", "after a long history.").Gated(gate));
        var index = app.Provider.Requests.Count;

        await page.GetByTestId("composer-text").FillAsync("One more question");
        await page.GetByTestId("composer-text").PressAsync("Enter");
        await app.Provider.WaitForRequestAsync(index, TimeSpan.FromSeconds(30));
        gate.Release(1);
        await Assertions.Expect(page.GetByTestId("streaming")).ToContainTextAsync("Fresh words");
        await Assertions.Expect(page.GetByTestId("streaming")).ToBeInViewportAsync();
        gate.Release(100);

        var answer = page.Locator("[data-testid=entry][data-kind=Agent]").Last;
        await Assertions.Expect(answer).ToContainTextAsync("Fresh words after a long history.");
        await Assertions.Expect(answer).ToBeInViewportAsync();
        await Assertions.Expect(page.Locator("#timeline > [data-testid=entry][data-kind=User]").Last).ToContainTextAsync("One more question");
    }

    [Fact]
    public async Task A_sidebar_of_hundreds_of_sessions_draws_those_in_view_filters_by_title_and_scrolls_to_the_oldest()
    {
        const int Count = 300;
        var sessions = app.Service<ISessions>();
        await Parallel.ForEachAsync(Enumerable.Range(0, Count), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
            await sessions.CreateAsync(ConclaveApp.DefaultUserId, $"Topic {i:D4} notes", ct));
        var listed = await sessions.ListAsync(ConclaveApp.DefaultUserId, CancellationToken.None);

        var page = await app.OpenAsync("/");
        await page.Locator("[data-testid=sidebar][data-ready=true]").WaitForAsync();
        var list = page.GetByTestId("sidebar-list");
        var items = list.GetByTestId("sidebar-session");
        await Assertions.Expect(list).ToHaveAttributeAsync("data-count", listed.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await Assertions.Expect(items.First).ToContainTextAsync(listed[0].Title);
        Assert.InRange(await items.CountAsync(), 1, 60);

        await page.GetByTestId("session-search").FillAsync("topic 0123");
        await Assertions.Expect(list.Locator(".sidebar-title")).ToHaveTextAsync(["Topic 0123 notes"]);
        await page.GetByTestId("session-search").FillAsync("topic 01");
        await Assertions.Expect(list).ToHaveAttributeAsync("data-count", "100");

        await page.GetByTestId("session-search").FillAsync("");
        await Assertions.Expect(list).ToHaveAttributeAsync("data-count", listed.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await list.EvaluateAsync("l => l.scrollTop = l.scrollHeight");
        var oldest = list.Locator($"[data-session-id='{listed[^1].Id}']");
        await Assertions.Expect(oldest).ToBeInViewportAsync();
        Assert.InRange(await items.CountAsync(), 1, 60);
    }
}
