using System.Net.Http.Json;
using Conclave.Agents.Contracts;
using Conclave.Sessions.Contracts;
using Conclave.Testing;
using Conclave.Testing.Host;
using Microsoft.Playwright;

namespace Conclave.EndToEnd.Tests;

/// <summary>A call waiting for approval stands out on the session page and is answered with the keyboard alone.</summary>
public sealed class ApprovalPageTests(BrowserApp app) : IClassFixture<BrowserApp>
{
    [Fact]
    public async Task A_pending_call_is_approved_from_the_keyboard_and_a_second_one_denied_with_a_reason()
    {
        var created = await app.Client.PostAsJsonAsync("/api/v1/teams", new
        {
            name = "Careful clerk",
            agents = new[] { new { name = "Clerk", systemPrompt = "You are a careful clerk.", tools = new[] { "list_files", "write_file" }, askFirst = new[] { "list_files", "write_file" }, color = "#0891b2" } },
            termination = new { endOnAnswer = true, maxTurns = 6 },
        });
        created.EnsureSuccessStatusCode();
        var team = (await created.Content.ReadFromJsonAsync<TeamDefinition>(Json.Options))!;
        var session = await app.CreateSessionAsync("approvals");
        (await app.Client.PutAsJsonAsync($"/api/v1/sessions/{session.Id}/team", new { teamId = team.Id })).EnsureSuccessStatusCode();
        var page = await app.OpenAsync($"/sessions/{session.Id}");
        app.Provider.Enqueue(
            Reply.ToolCall("list_files", "{}", id: "call_page_1"),
            Reply.ToolCall("write_file", """{"path": "notes.txt", "content": "secret"}""", id: "call_page_2"),
            Reply.Text("I listed the files and did not write the note."));

        await page.GetByTestId("composer-text").FillAsync("List my files, then write a note.");
        await page.GetByTestId("composer-text").PressAsync("Enter");

        var approval = page.Locator("[data-testid=approval][data-call-id=call_page_1]");
        await Assertions.Expect(approval).ToBeVisibleAsync(new() { Timeout = 60_000 });
        await Assertions.Expect(page.GetByTestId("run-state")).ToHaveAttributeAsync("data-status", nameof(RunStatus.AwaitingApproval));
        await Assertions.Expect(approval).ToContainTextAsync("Clerk wants to run list_files");
        await approval.ScrollIntoViewIfNeededAsync();
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = BrowserApp.DocsImage("approval.png") });
        await approval.GetByTestId("approve").FocusAsync();
        await page.Keyboard.PressAsync("Enter");

        var second = page.Locator("[data-testid=approval][data-call-id=call_page_2]");
        await Assertions.Expect(second).ToBeVisibleAsync(new() { Timeout = 60_000 });
        await Assertions.Expect(page.Locator("[data-testid=approval-answer]").First).ToHaveAttributeAsync("data-state", "Approved");
        await second.GetByTestId("approval-reason").FocusAsync();
        await page.Keyboard.TypeAsync("No notes today.");
        await page.Keyboard.PressAsync("Tab"); // always allow
        await page.Keyboard.PressAsync("Tab"); // approve
        await page.Keyboard.PressAsync("Tab"); // deny
        await Assertions.Expect(second.GetByTestId("deny")).ToBeFocusedAsync();
        await page.Keyboard.PressAsync("Enter");

        await Assertions.Expect(page.GetByTestId("run-state")).ToHaveAttributeAsync("data-status", "Completed", new() { Timeout = 60_000 });
        await Assertions.Expect(page.Locator("[data-testid=approval-answer][data-state=Denied]")).ToContainTextAsync("No notes today.");
        await Assertions.Expect(page.Locator("[data-testid=tool-call][data-outcome=Denied]")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("[data-testid=tool-call][data-outcome=Ok]")).ToHaveCountAsync(1);
    }

    [Fact]
    public async Task Always_allow_ticked_with_the_keyboard_lets_the_next_call_of_the_tool_run_without_asking()
    {
        var created = await app.Client.PostAsJsonAsync("/api/v1/teams", new
        {
            name = "Trusting clerk",
            agents = new[] { new { name = "Clerk", systemPrompt = "You are a careful clerk.", tools = new[] { "list_files" }, askFirst = new[] { "list_files" }, color = "#0891b2" } },
            termination = new { endOnAnswer = true, maxTurns = 6 },
        });
        created.EnsureSuccessStatusCode();
        var team = (await created.Content.ReadFromJsonAsync<TeamDefinition>(Json.Options))!;
        var session = await app.CreateSessionAsync("always allow");
        (await app.Client.PutAsJsonAsync($"/api/v1/sessions/{session.Id}/team", new { teamId = team.Id })).EnsureSuccessStatusCode();
        var page = await app.OpenAsync($"/sessions/{session.Id}");
        app.Provider.Enqueue(
            Reply.ToolCall("list_files", "{}", id: "call_always_1"),
            Reply.ToolCall("list_files", "{}", id: "call_always_2"),
            Reply.Text("I looked twice."));

        await page.GetByTestId("composer-text").FillAsync("Look at my files twice.");
        await page.GetByTestId("composer-text").PressAsync("Enter");

        var approval = page.Locator("[data-testid=approval][data-call-id=call_always_1]");
        await Assertions.Expect(approval).ToBeVisibleAsync(new() { Timeout = 60_000 });
        await approval.GetByTestId("approval-always").FocusAsync();
        await page.Keyboard.PressAsync("Space");
        await Assertions.Expect(approval.GetByTestId("approval-always")).ToBeCheckedAsync();
        await page.Keyboard.PressAsync("Tab"); // approve
        await Assertions.Expect(approval.GetByTestId("approve")).ToBeFocusedAsync();
        await page.Keyboard.PressAsync("Enter");

        await Assertions.Expect(page.GetByTestId("run-state")).ToHaveAttributeAsync("data-status", "Completed", new() { Timeout = 60_000 });
        await Assertions.Expect(page.Locator("[data-testid=approval-answer][data-state=Approved]"))
            .ToContainTextAsync("runs without asking for the rest of the session");
        await Assertions.Expect(page.Locator("[data-testid=tool-call][data-outcome=Ok]")).ToHaveCountAsync(2);
        await Assertions.Expect(page.Locator("[data-testid=approval]")).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("[data-testid=approval-answer]")).ToHaveCountAsync(1);
    }
}
