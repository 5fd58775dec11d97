using Conclave.Agents.Contracts;
using Conclave.Sessions.Contracts;
using Conclave.Testing;
using Conclave.Testing.Host;
using Microsoft.Playwright;

namespace Conclave.EndToEnd.Tests;

/// <summary>Reading the timeline: control words hidden, copy buttons, times, jump to latest, retry.</summary>
public sealed class TimelineTests(BrowserApp app) : IClassFixture<BrowserApp>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task The_termination_keyword_is_not_in_the_rendered_answer_but_is_in_the_event()
    {
        var session = await SessionWithTeamAsync("keyword", new TerminationRules { Keyword = "TERMINATE" });
        app.Provider.Enqueue(Reply.Text("The answer is 42. TERMINATE"));
        var posted = await app.PostMessageAsync(session.Id, "What is the answer?");
        await app.WaitForRunEndAsync(session.Id, posted.RunId);

        var page = await app.OpenAsync($"/sessions/{session.Id}");
        var answer = page.Locator("[data-testid=entry][data-kind=Agent] .entry-body");
        await Assertions.Expect(answer).ToHaveTextAsync("The answer is 42.");
        Assert.DoesNotContain("TERMINATE", await page.Locator("[data-testid=entry][data-kind=Agent]").InnerTextAsync());
        // Why the run ended is still said, in the system's notice.
        await Assertions.Expect(page.Locator("[data-testid=entry][data-kind=Notice]").Last).ToContainTextAsync("Closer said TERMINATE.");

        var completed = (await app.EventsAsync(session.Id)).Select(e => e.Data).OfType<AgentMessageCompleted>().Single();
        Assert.Equal("The answer is 42. TERMINATE", completed.Text);
    }

    [Fact]
    public async Task Copy_buttons_copy_a_code_block_and_a_whole_message()
    {
        var session = await app.CreateSessionAsync("copy");
        const string Answer = "Run this:\n\n```python\nprint('copied')\n```";
        app.Provider.Enqueue(Reply.Text(Answer));
        var posted = await app.PostMessageAsync(session.Id, "Some code please");
        await app.WaitForRunEndAsync(session.Id, posted.RunId);
        var page = await app.OpenAsync($"/sessions/{session.Id}");
        await page.Context.GrantPermissionsAsync(["clipboard-read", "clipboard-write"]);
        var entry = page.Locator("[data-testid=entry][data-kind=Agent]");

        await entry.Locator("[data-copy-code]").ClickAsync();
        await Assertions.Expect(entry.Locator("[data-copy-code][data-copied]")).ToHaveCountAsync(1);
        Assert.Equal("print('copied')", (await page.EvaluateAsync<string>("() => navigator.clipboard.readText()")).Trim());

        // By keyboard: focus the message's Copy button and press Enter.
        await entry.GetByTestId("copy-message").FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(entry.Locator("[data-testid=copy-message][data-copied]")).ToHaveCountAsync(1);
        Assert.Equal(Answer, await page.EvaluateAsync<string>("() => navigator.clipboard.readText()"));
    }

    [Fact]
    public async Task Jump_to_latest_shows_when_the_reader_scrolled_up_during_a_run_and_takes_them_down()
    {
        var session = await app.CreateSessionAsync("jump");
        app.Provider.Enqueue(Reply.Text(string.Join("\n\n", Enumerable.Range(1, 80).Select(i => $"Paragraph {i} of a long answer."))));
        var first = await app.PostMessageAsync(session.Id, "Write a lot");
        await app.WaitForRunEndAsync(session.Id, first.RunId);
        var page = await app.OpenAsync($"/sessions/{session.Id}");
        app.Provider.Enqueue(Reply.Chunks("Still ", "writing ", "forever").StallAfter(1));
        var index = app.Provider.Requests.Count;
        await page.GetByTestId("composer-text").FillAsync("And more");
        await page.GetByTestId("composer-text").PressAsync("Enter");
        await app.Provider.WaitForRequestAsync(index, Deadline);
        await Assertions.Expect(page.GetByTestId("streaming")).ToContainTextAsync("Still");
        await Assertions.Expect(page.GetByTestId("jump-latest")).ToBeHiddenAsync();

        await page.EvaluateAsync("() => window.scrollTo(0, 0)");
        await Assertions.Expect(page.GetByTestId("jump-latest")).ToBeVisibleAsync();
        await page.GetByTestId("jump-latest").ClickAsync();

        await Assertions.Expect(page.GetByTestId("jump-latest")).ToBeHiddenAsync();
        await Assertions.Expect(page.GetByTestId("streaming")).ToBeInViewportAsync();
        await page.GetByTestId("stop").ClickAsync();
    }

    [Fact]
    public async Task A_failed_or_stopped_run_can_be_retried_from_the_last_message_by_keyboard()
    {
        var session = await app.CreateSessionAsync("retry");
        app.Provider.Enqueue(Reply.Error(400, "bad request"));
        var posted = await app.PostMessageAsync(session.Id, "Try this");
        await app.WaitForRunEndAsync(session.Id, posted.RunId);
        var page = await app.OpenAsync($"/sessions/{session.Id}");
        app.Provider.Enqueue(Reply.Text("Second time lucky."));

        await page.GetByTestId("retry").FocusAsync();
        await page.Keyboard.PressAsync("Enter");

        await Assertions.Expect(page.Locator("[data-testid=entry][data-kind=Agent]")).ToContainTextAsync("Second time lucky.");
        await Assertions.Expect(page.Locator("[data-testid=entry][data-kind=User]")).ToHaveCountAsync(1);
        Assert.Single(await app.EventsAsync(session.Id), e => e.Data is UserMessageEdited { Text: "Try this" });
    }

    [Fact]
    public async Task Times_and_numbers_follow_the_browser_culture_and_counts_agree_with_their_noun()
    {
        var session = await app.CreateSessionAsync("culture");
        app.Provider.Enqueue(Reply.Text("Guten Tag.").WithUsage(12345, 678));
        var posted = await app.PostMessageAsync(session.Id, "Hallo");
        await app.WaitForRunEndAsync(session.Id, posted.RunId);
        var page = await app.OpenAsync($"/sessions/{session.Id}", new() { Locale = "de-DE", TimezoneId = "Europe/Berlin" });

        var agent = page.Locator("[data-testid=entry][data-kind=Agent]");
        await Assertions.Expect(agent.Locator(".entry-meta")).ToContainTextAsync("12.345 in");
        var time = agent.Locator("time[data-relative]");
        await Assertions.Expect(time).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^(jetzt|vor .+)$"));
        await Assertions.Expect(time).ToHaveAttributeAsync("title", new System.Text.RegularExpressions.Regex(
            @"^(Montag|Dienstag|Mittwoch|Donnerstag|Freitag|Samstag|Sonntag), \d{1,2}\. \w+ \d{4} um \d{2}:\d{2}:\d{2}$"));
        var item = page.Locator($"[data-testid=sidebar-session][data-session-id='{session.Id}']");
        await Assertions.Expect(item.Locator(".sidebar-meta")).ToContainTextAsync("2 messages");
    }

    private async Task<SessionSummary> SessionWithTeamAsync(string title, TerminationRules termination)
    {
        var session = await app.CreateSessionAsync(title);
        var team = await app.Service<ITeams>().CreateAsync(ConclaveApp.DefaultUserId, new TeamDefinition
        {
            Name = $"Closer {Guid.NewGuid():N}"[..20],
            Agents = [new AgentDefinition("Closer", "Answers, then says the keyword", "Answer, then say TERMINATE.", [])],
            Termination = termination,
        }, CancellationToken.None);
        await app.Service<ISessions>().ChooseTeamAsync(ConclaveApp.DefaultUserId, session.Id, team.Id, team.Name, CancellationToken.None);
        return session;
    }
}
