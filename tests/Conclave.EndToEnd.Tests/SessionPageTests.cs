using Conclave.Sessions.Contracts;
using Conclave.Testing;
using Microsoft.Playwright;

namespace Conclave.EndToEnd.Tests;

public sealed class SessionPageTests(BrowserApp app) : IClassFixture<BrowserApp>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Sending_a_message_streams_the_answer_and_renders_its_markdown_table()
    {
        var page = await app.OpenAsync("/");
        await page.GetByTestId("new-session").ClickAsync();
        await app.WaitForUrlAsync(page, "**/sessions/*");
        await page.Locator("[data-testid=session][data-interactive=true]").WaitForAsync();
        app.Provider.Enqueue(Reply.Chunks("Here you go:\n\n", "| City | Temp |\n", "|---|---|\n", "| Oslo | 3 |\n").Gated());
        var index = app.Provider.Requests.Count;

        await page.GetByTestId("composer-text").FillAsync("Weather table please");
        await page.GetByTestId("composer-text").PressAsync("Enter");
        await app.Provider.WaitForRequestAsync(index, Deadline);
        app.Provider.ReleaseChunk();

        // The first chunk shows while the answer is still being written.
        await Assertions.Expect(page.GetByTestId("streaming")).ToContainTextAsync("Here you go:");
        app.Provider.ReleaseChunk(3);

        var answer = page.Locator("[data-testid=entry].entry-agent");
        await Assertions.Expect(answer.Locator("table td").First).ToHaveTextAsync("Oslo");
        await Assertions.Expect(page.GetByTestId("streaming")).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("[data-testid=entry].entry-user")).ToContainTextAsync("Weather table please");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = BrowserApp.ScreenshotPath("session-table.png"), FullPage = true });
    }

    [Fact]
    public async Task Reloading_mid_stream_shows_the_finished_message_once()
    {
        var session = await app.CreateSessionAsync("reload");
        var page = await app.OpenAsync($"/sessions/{session.Id}");
        await Assertions.Expect(page.GetByTestId("composer-text")).ToBeVisibleAsync();
        app.Provider.Enqueue(Reply.Chunks("Part one, ", "part two, ", "the end.").Gated());
        var index = app.Provider.Requests.Count;
        var posted = await app.PostMessageAsync(session.Id, "tell me a story");
        await app.Provider.WaitForRequestAsync(index, Deadline);
        app.Provider.ReleaseChunk();
        await Assertions.Expect(page.GetByTestId("streaming")).ToContainTextAsync("Part one,");

        await page.ReloadAsync();
        await page.Locator("[data-interactive=true]").WaitForAsync();
        // After the reload the page joins mid-message: it shows the text so far, then the rest.
        await Assertions.Expect(page.GetByTestId("streaming")).ToContainTextAsync("Part one,");
        app.Provider.ReleaseChunk(2);
        await app.WaitForRunEndAsync(session.Id, posted.RunId);

        var agentEntries = page.Locator("[data-testid=entry].entry-agent");
        await Assertions.Expect(agentEntries).ToHaveCountAsync(1);
        await Assertions.Expect(agentEntries).ToContainTextAsync("Part one, part two, the end.");
        await Assertions.Expect(page.GetByTestId("streaming")).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("[data-testid=entry].entry-user")).ToHaveCountAsync(1);
    }

    [Fact]
    public async Task Html_and_script_in_a_message_are_shown_as_text_and_never_run()
    {
        var session = await app.CreateSessionAsync("xss");
        app.Provider.Enqueue(Reply.Text("Echo: <script>window.__pwned = 'agent'</script> [x](javascript:window.__pwned='link')"));
        var posted = await app.PostMessageAsync(
            session.Id, "<script>window.__pwned = 'user'</script><img src=x onerror=\"window.__pwned='img'\">");
        await app.WaitForRunEndAsync(session.Id, posted.RunId);
        var page = await app.OpenAsync($"/sessions/{session.Id}");
        await Assertions.Expect(page.Locator("[data-testid=entry].entry-agent")).ToHaveCountAsync(1);
        await page.Locator("[data-testid=entry].entry-agent a").ClickAsync();

        Assert.Equal("undefined", await page.EvaluateAsync<string>("() => typeof window.__pwned"));
        await Assertions.Expect(page.Locator("[data-testid=entry].entry-user")).ToContainTextAsync("<script>window.__pwned = 'user'</script>");
        Assert.Equal(0, await page.Locator(".timeline img").CountAsync());
        Assert.Equal(0, await page.Locator(".timeline script").CountAsync());
    }

    [Fact]
    public async Task The_stop_button_halts_a_looping_run_at_once()
    {
        var session = await app.CreateSessionAsync("stop");
        var page = await app.OpenAsync($"/sessions/{session.Id}");
        await Assertions.Expect(page.GetByTestId("composer-text")).ToBeVisibleAsync();
        app.Provider.Enqueue(Reply.Chunks("Thinking ", "forever ", "and ever").StallAfter(1));
        var index = app.Provider.Requests.Count;
        await page.GetByTestId("composer-text").FillAsync("Loop until I stop you");
        await page.GetByTestId("composer-text").PressAsync("Enter");
        var request = await app.Provider.WaitForRequestAsync(index, Deadline);
        await Assertions.Expect(page.GetByTestId("streaming")).ToContainTextAsync("Thinking");

        await page.GetByTestId("stop").ClickAsync();

        await Assertions.Expect(page.Locator("[data-testid=entry].entry-notice")).ToContainTextAsync("Stopped by the user.");
        await Assertions.Expect(page.GetByTestId("streaming")).ToHaveCountAsync(0);
        await Assertions.Expect(page.GetByTestId("stop")).ToHaveCountAsync(0);
        await Assertions.Expect(page.GetByTestId("run-state")).ToHaveAttributeAsync("data-status", "Cancelled");
        await request.WaitForDisconnectAsync(Deadline);
        Assert.IsType<RunCancelled>((await app.EventsAsync(session.Id))[^1].Data);
    }

    [Fact]
    public async Task An_empty_message_shows_why_it_was_not_sent()
    {
        var session = await app.CreateSessionAsync("empty");
        var page = await app.OpenAsync($"/sessions/{session.Id}");

        await page.GetByTestId("send").ClickAsync();

        await Assertions.Expect(page.GetByTestId("composer-error")).ToContainTextAsync("empty");
        Assert.Single(await app.EventsAsync(session.Id));
    }

}
