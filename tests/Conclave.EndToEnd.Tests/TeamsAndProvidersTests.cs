using System.Net.Http.Json;
using Conclave.Agents.Contracts;
using Conclave.Sandbox.Contracts;
using Conclave.Testing.Host;
using Microsoft.Playwright;

namespace Conclave.EndToEnd.Tests;

public sealed class TeamsAndProvidersTests(BrowserApp app) : IClassFixture<BrowserApp>
{
    private const string Key = "fake-test-key-for-browser-0000wxyz";

    [Fact]
    public async Task A_team_made_in_the_editor_by_keyboard_shows_in_the_list()
    {
        var page = await app.OpenAsync("/teams");
        await Assertions.Expect(page.GetByTestId("built-in")).ToHaveCountAsync(3);
        await page.GetByTestId("new-team").ClickAsync();
        await page.Locator("[data-testid=team-editor][data-interactive=true]").WaitForAsync();

        await page.GetByLabel("Name", new() { Exact = true }).First.FillAsync("Writers room");
        var first = page.GetByTestId("agent").Nth(0);
        await first.GetByTestId("agent-name").FillAsync("Writer");
        await first.GetByTestId("agent-prompt").FillAsync("You write the first draft.");
        await first.GetByTestId($"tool-{SandboxToolCatalog.WriteFile.Name}").CheckAsync();
        await page.GetByTestId("add-agent").ClickAsync();
        var second = page.GetByTestId("agent").Nth(1);
        await second.GetByTestId("agent-name").FillAsync("Editor");
        await second.GetByTestId("agent-role").FillAsync("Tightens the draft");
        await second.GetByTestId("agent-prompt").FillAsync("You edit the draft and say DONE when it is good.");
        await page.GetByTestId("term-keyword").FillAsync("DONE");
        await page.GetByTestId("term-keyword-agent").SelectOptionAsync("Editor");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = BrowserApp.ScreenshotPath("team-editor.png"), FullPage = true });

        // Enter in a one-line field submits the form.
        await page.GetByTestId("team-name-input").PressAsync("Enter");

        await app.WaitForUrlAsync(page, "**/teams");
        var row = page.GetByTestId("team-row").Filter(new() { HasText = "Writers room" });
        await Assertions.Expect(row).ToHaveCountAsync(1);
        await Assertions.Expect(row).ToContainTextAsync("2 agents");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = BrowserApp.ScreenshotPath("teams.png"), FullPage = true });
        var stored = (await TeamsAsync()).Single(t => t.Name == "Writers room");
        Assert.Equal(["Writer", "Editor"], stored.Agents.Select(a => a.Name));
        Assert.Equal([SandboxToolCatalog.WriteFile.Name], stored.Agents[0].Tools);
        Assert.Equal("Editor", stored.Termination.KeywordAgent);
    }

    [Fact]
    public async Task An_invalid_team_shows_the_error_next_to_the_field_and_is_not_saved()
    {
        var page = await app.OpenAsync("/teams/new");
        await page.GetByTestId("team-name-input").FillAsync("Broken");
        await page.GetByTestId("agent").Nth(0).GetByTestId("agent-name").FillAsync("has-no-prompt");
        await page.GetByTestId("agent").Nth(0).GetByTestId("agent-prompt").FillAsync("");

        await page.GetByTestId("save-team").ClickAsync();

        await Assertions.Expect(page.Locator("[data-testid=field-error][data-field='agents[0].systemPrompt']")).ToContainTextAsync("required");
        Assert.DoesNotContain(await TeamsAsync(), t => t.Name == "Broken");
    }

    [Fact]
    public async Task A_provider_added_with_a_key_shows_only_its_hint()
    {
        var page = await app.OpenAsync("/providers");
        await page.GetByTestId("provider-preset").SelectOptionAsync(nameof(ProviderPreset.Groq));
        await Assertions.Expect(page.GetByTestId("provider-url")).ToHaveValueAsync("https://api.groq.com/openai/v1/");
        await page.GetByTestId("provider-name-input").FillAsync("Groq fast");
        await page.GetByTestId("provider-key").FillAsync(Key);
        await page.GetByTestId("provider-input-price").FillAsync("0.05");
        await page.GetByTestId("provider-key").PressAsync("Enter");

        var row = page.GetByTestId("provider-row").Filter(new() { HasText = "Groq fast" });
        await Assertions.Expect(row.GetByTestId("key-hint")).ToHaveTextAsync("…wxyz");
        await Assertions.Expect(row).ToContainTextAsync("$0.05 in / unknown out");
        await Assertions.Expect(page.GetByTestId("provider-key")).ToHaveValueAsync("");
        Assert.DoesNotContain("SECRET", await page.ContentAsync());

        await row.GetByTestId("edit-provider").ClickAsync();
        await Assertions.Expect(page.GetByTestId("stored-key-hint")).ToHaveTextAsync("…wxyz");
        await Assertions.Expect(page.GetByTestId("provider-key")).ToHaveValueAsync("");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = BrowserApp.ScreenshotPath("providers.png"), FullPage = true });
        Assert.DoesNotContain("SECRET", await page.ContentAsync());
    }

    /// <summary>The teams of the user the browser is signed in as (the fixture's client is that user).</summary>
    private async Task<List<TeamDefinition>> TeamsAsync() =>
        (await app.Client.GetFromJsonAsync<List<TeamDefinition>>("/api/v1/teams", Json.Options))!;

}
