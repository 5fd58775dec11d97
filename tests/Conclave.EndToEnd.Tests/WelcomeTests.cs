using Microsoft.Playwright;

namespace Conclave.EndToEnd.Tests;

/// <summary>What a new user and a new session see before anything was said.</summary>
public sealed class WelcomeTests(BrowserApp app) : IClassFixture<BrowserApp>
{
    [Fact]
    public async Task A_new_session_welcomes_with_prompts_for_its_team_and_a_picked_prompt_fills_the_message_box()
    {
        var session = await app.CreateSessionAsync("welcome");
        var page = await app.OpenAsync($"/sessions/{session.Id}");
        var welcome = page.GetByTestId("welcome");
        await Assertions.Expect(welcome.GetByTestId("welcome-team")).ToHaveTextAsync("Assistant");
        await Assertions.Expect(welcome.GetByTestId("example-prompt")).ToHaveCountAsync(3);

        await page.GetByTestId("team-picker").SelectOptionAsync(new SelectOptionValue { Label = "Planner-Coder-Critic (built-in)" });
        await Assertions.Expect(welcome.GetByTestId("welcome-team")).ToHaveTextAsync("Planner-Coder-Critic");
        var prompt = welcome.GetByTestId("example-prompt").First;
        await Assertions.Expect(prompt).ToContainTextAsync("dice");
        var text = await prompt.InnerTextAsync();
        await prompt.ClickAsync();

        var composer = page.GetByTestId("composer-text");
        await Assertions.Expect(composer).ToHaveValueAsync(text);
        await Assertions.Expect(composer).ToBeFocusedAsync();
        app.Provider.Enqueue(Conclave.Testing.Reply.Text("1. Roll."), Conclave.Testing.Reply.Text("Done."), Conclave.Testing.Reply.Text("APPROVE"));
        await composer.PressAsync("Enter");
        await Assertions.Expect(page.GetByTestId("welcome")).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("[data-testid=entry][data-kind=User]")).ToContainTextAsync(text);
        await Assertions.Expect(page.GetByTestId("run-state")).ToHaveAttributeAsync("data-status", "Completed");
    }

    [Fact]
    public async Task A_user_without_sessions_is_told_what_to_do_on_the_list_and_in_the_sidebar()
    {
        await app.CreateUserAsync("newcomer");
        var page = await app.NewPageAsAsync("newcomer");
        await page.GotoAsync("/");
        await page.Locator("[data-interactive=true]").WaitForAsync();

        await Assertions.Expect(page.GetByTestId("sessions-empty")).ToContainTextAsync("New session");
        await Assertions.Expect(page.GetByTestId("sidebar-empty")).ToContainTextAsync("New session");
    }
}
