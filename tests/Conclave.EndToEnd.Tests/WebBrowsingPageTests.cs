using Conclave.Agents.Contracts;
using Conclave.Sessions.Contracts;
using Conclave.Testing;
using Conclave.Testing.Host;
using Microsoft.Playwright;

namespace Conclave.EndToEnd.Tests;

/// <summary>The Host with its agents' browser allowed to reach the local <see cref="TestSite"/> (a test-only entry).</summary>
public sealed class WebBrowsingApp : BrowserApp
{
    public TestSite Site { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        Site = await TestSite.StartAsync();
        await base.InitializeAsync();
    }

    protected override void AddSettings(IDictionary<string, string> settings)
    {
        settings["Conclave:Browser:AllowList:0"] = $"127.0.0.1:{Site.Port}";
        if (Environment.GetEnvironmentVariable("Conclave__Browser__ExecutablePath") is { } chromium)
        {
            settings["Conclave:Browser:ExecutablePath"] = chromium;
        }
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Site.DisposeAsync();
    }
}

/// <summary>A user watches an agent browse: each step with its URL, and the screenshot shown in the timeline.</summary>
public sealed class WebBrowsingPageTests(WebBrowsingApp app) : IClassFixture<WebBrowsingApp>
{
    [Fact]
    public async Task A_run_that_browses_shows_its_steps_and_its_screenshot_in_the_timeline()
    {
        var team = await app.Service<ITeams>().CreateAsync(ConclaveApp.DefaultUserId, new TeamDefinition
        {
            Name = "Browser",
            Agents = [new AgentDefinition("Browser", "Browses the web", "You browse the web for the user.", ["open_url", "read_page", "screenshot"])],
            Termination = new TerminationRules { EndOnAnswer = true, MaxTurns = 6 },
        }, CancellationToken.None);
        var session = await app.CreateSessionAsync("browsing");
        await app.Service<ISessions>().ChooseTeamAsync(ConclaveApp.DefaultUserId, session.Id, team.Id, team.Name, CancellationToken.None);
        var form = app.Site.Url("form").ToString();
        app.Provider.Enqueue(
            Reply.ToolCall("open_url", $$"""{"url": "{{form}}"}"""),
            Reply.ToolCall("screenshot", "{}"),
            Reply.Text("The oracle's form asks for a question and a colour."));
        var page = await app.OpenAsync($"/sessions/{session.Id}");

        await page.GetByTestId("composer-text").FillAsync("What does the oracle's form ask for?");
        await page.GetByTestId("composer-text").PressAsync("Enter");

        await Assertions.Expect(page.GetByTestId("run-state")).ToHaveAttributeAsync("data-status", "Completed", new() { Timeout = 60_000 });
        var calls = page.GetByTestId("tool-call");
        await Assertions.Expect(calls).ToHaveCountAsync(2);
        await Assertions.Expect(calls.First).ToContainTextAsync("open_url");
        await calls.First.Locator("summary").ClickAsync();
        await Assertions.Expect(calls.First).ToContainTextAsync(form);
        var shot = page.GetByTestId("tool-image");
        await Assertions.Expect(shot).ToBeVisibleAsync();
        Assert.True(await shot.EvaluateAsync<int>("img => img.naturalWidth") >= 1280, "the screenshot's PNG loads from the session's files");
        // A thumbnail in the timeline, a link to the full screenshot.
        Assert.True(await shot.EvaluateAsync<int>("img => img.getBoundingClientRect().height") <= 240);
        await Assertions.Expect(page.GetByTestId("tool-image-link")).ToHaveAttributeAsync("href", (await shot.GetAttributeAsync("src"))!);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = BrowserApp.ScreenshotPath("web-browsing.png"), FullPage = true });
    }
}
