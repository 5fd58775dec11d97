using Conclave.Sessions.Contracts;
using Conclave.Testing;
using Microsoft.Playwright;

namespace Conclave.EndToEnd.Tests;

/// <summary>A team at work in the browser: picked, watched, paused, stopped, and re-run after an edit.</summary>
public sealed class TeamRunPageTests(BrowserApp app) : IClassFixture<BrowserApp>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_picked_team_works_with_each_agent_named_its_python_run_and_plot_shown_and_its_cost_so_far()
    {
        var page = await app.OpenAsync("/");
        await page.GetByTestId("new-session").ClickAsync();
        await app.WaitForUrlAsync(page, "**/sessions/*");
        await page.Locator("[data-testid=session][data-interactive=true]").WaitForAsync();
        await page.GetByTestId("team-picker").SelectOptionAsync(new SelectOptionValue { Label = "Planner-Coder-Critic (built-in)" });
        await Assertions.Expect(page.Locator("[data-testid=entry][data-kind=Notice]")).ToContainTextAsync("Planner-Coder-Critic");
        app.Provider.Enqueue(
            Reply.Text("1. Plot the squares of 1 to 5."),
            Reply.ToolCall("run_python", """{"code": "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3, 4, 5], [1, 4, 9, 16, 25])\nplt.title('Squares')\nplt.show()\nprint('plotted')"}"""),
            Reply.Text("Plotted the squares; the figure is in outputs/."),
            Reply.Text("The plot is right. APPROVE"));

        await page.GetByTestId("composer-text").FillAsync("Plot the squares of 1 to 5");
        await page.GetByTestId("composer-text").PressAsync("Enter");

        await Assertions.Expect(page.GetByTestId("run-state")).ToHaveAttributeAsync("data-status", "Completed", new() { Timeout = 60_000 });
        var agents = page.Locator("[data-testid=entry][data-kind=Agent] .agent-name");
        await Assertions.Expect(agents).ToHaveTextAsync(["Planner", "Coder", "Critic"]);
        var call = page.GetByTestId("tool-call");
        await Assertions.Expect(call).ToHaveAttributeAsync("data-outcome", "Ok");
        await call.Locator("summary").ClickAsync();
        await Assertions.Expect(call.GetByTestId("tool-output")).ToContainTextAsync("plotted");
        var plot = page.GetByTestId("tool-image");
        await Assertions.Expect(plot).ToBeVisibleAsync();
        Assert.True(await plot.EvaluateAsync<int>("img => img.naturalWidth") > 100, "the plot's PNG loads from the session's files");
        await Assertions.Expect(page.GetByTestId("run-usage")).ToContainTextAsync("tokens");
        await Assertions.Expect(page.Locator("[data-testid=entry][data-kind=Notice]").Last).ToContainTextAsync("Critic said APPROVE.");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = BrowserApp.ScreenshotPath("team-run.png"), FullPage = true });
    }

    [Fact]
    public async Task Pause_then_resume_from_the_buttons()
    {
        var session = await app.CreateSessionAsync("pause");
        var page = await app.OpenAsync($"/sessions/{session.Id}");
        var gate = new ChunkGate();
        app.Provider.Enqueue(Reply.ToolCall("list_files", "{}").Gated(gate));
        var index = app.Provider.Requests.Count;
        await page.GetByTestId("composer-text").FillAsync("What files are there?");
        await page.GetByTestId("composer-text").PressAsync("Enter");
        await app.Provider.WaitForRequestAsync(index, Deadline);

        await page.GetByTestId("pause").ClickAsync();
        await Assertions.Expect(page.GetByTestId("run-state")).ToHaveAttributeAsync("data-status", "Pausing");
        gate.Release(100);
        await Assertions.Expect(page.GetByTestId("run-state")).ToHaveAttributeAsync("data-status", "Paused");

        app.Provider.Enqueue(Reply.Text("There are no files yet."));
        await page.GetByTestId("resume").ClickAsync();
        await Assertions.Expect(page.GetByTestId("run-state")).ToHaveAttributeAsync("data-status", "Completed");
        await Assertions.Expect(page.Locator("[data-testid=entry][data-kind=Agent]").Last).ToContainTextAsync("There are no files yet.");
    }

    [Fact]
    public async Task Stop_with_Escape_then_edit_the_last_message_and_watch_the_new_run()
    {
        var session = await app.CreateSessionAsync("edit");
        var page = await app.OpenAsync($"/sessions/{session.Id}");
        app.Provider.Enqueue(Reply.Chunks("I will ", "go on ", "forever").StallAfter(1));
        var index = app.Provider.Requests.Count;
        var composer = page.GetByTestId("composer-text");
        await composer.FillAsync("Waht is 2+2?");
        await composer.PressAsync("Enter");
        await Assertions.Expect(page.GetByTestId("streaming")).ToContainTextAsync("I will");

        await composer.PressAsync("Escape");
        await Assertions.Expect(page.GetByTestId("run-state")).ToHaveAttributeAsync("data-status", "Cancelled");
        await (await app.Provider.WaitForRequestAsync(index, Deadline)).WaitForDisconnectAsync(Deadline);

        // ↑ in the empty box edits the last message.
        await composer.PressAsync("ArrowUp");
        await Assertions.Expect(page.GetByTestId("editing-note")).ToBeVisibleAsync();
        await Assertions.Expect(composer).ToHaveValueAsync("Waht is 2+2?");
        app.Provider.Enqueue(Reply.Text("4"));
        await composer.FillAsync("What is 2+2?");
        await composer.PressAsync("Enter");

        await Assertions.Expect(page.GetByTestId("run-state")).ToHaveAttributeAsync("data-status", "Completed");
        var users = page.Locator("[data-testid=entry][data-kind=User]");
        await Assertions.Expect(users).ToHaveCountAsync(1);
        await Assertions.Expect(users).ToContainTextAsync("(edited)");
        await Assertions.Expect(users.Locator(".entry-body")).ToHaveTextAsync("What is 2+2?");
        await Assertions.Expect(page.Locator("[data-testid=entry][data-kind=Agent]")).ToHaveTextAsync([new System.Text.RegularExpressions.Regex("4")]);
        await page.GetByTestId("show-superseded").CheckAsync();
        await Assertions.Expect(page.Locator("[data-testid=entry].superseded").First).ToContainTextAsync("Waht is 2+2?");
        var events = await app.EventsAsync(session.Id);
        Assert.Single(events, e => e.Data is UserMessageEdited);
    }
}
