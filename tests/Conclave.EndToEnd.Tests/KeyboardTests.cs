using Conclave.Sessions.Contracts;
using Conclave.Testing;
using Microsoft.Playwright;

namespace Conclave.EndToEnd.Tests;

/// <summary>Everything a session needs, with the keyboard alone: no click, no mouse.</summary>
public sealed class KeyboardTests(BrowserApp app) : IClassFixture<BrowserApp>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Create_a_session_send_stop_edit_the_last_message_and_switch_sessions_through_the_sidebar()
    {
        var other = await app.CreateSessionAsync("Keyboard other session");
        var page = await app.OpenAsync("/");
        await page.Locator("[data-testid=sidebar][data-ready=true]").WaitForAsync();

        // Create: Tab to the sidebar's New session button.
        await TabToAsync(page, page.GetByTestId("sidebar-new-session"), "Tab");
        await page.Keyboard.PressAsync("Enter");
        await page.WaitForURLAsync(url => url.Contains("/sessions/", StringComparison.Ordinal) && !url.Contains(other.Id.ToString(), StringComparison.Ordinal));
        await page.Locator("[data-testid=session][data-interactive=true]").WaitForAsync();
        var created = Guid.Parse(page.Url.Split('/')[^1]);

        // Send: the message box has focus; type and press Enter.
        var composer = page.GetByTestId("composer-text");
        await Assertions.Expect(composer).ToBeFocusedAsync();
        app.Provider.Enqueue(Reply.Chunks("Counting ", "sheep ", "forever").StallAfter(1));
        var index = app.Provider.Requests.Count;
        await page.Keyboard.TypeAsync("Count sheep, plese");
        await page.Keyboard.PressAsync("Enter");
        var request = await app.Provider.WaitForRequestAsync(index, Deadline);
        await Assertions.Expect(page.GetByTestId("streaming")).ToContainTextAsync("Counting");

        // Stop: Escape.
        await page.Keyboard.PressAsync("Escape");
        await Assertions.Expect(page.GetByTestId("run-state")).ToHaveAttributeAsync("data-status", "Cancelled");
        await request.WaitForDisconnectAsync(Deadline);

        // Edit the last message: Tab back to its Edit button, Enter, fix the text, Enter.
        await TabToAsync(page, page.GetByTestId("edit-last"), "Shift+Tab");
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page.GetByTestId("editing-note")).ToBeVisibleAsync();
        await Assertions.Expect(composer).ToHaveValueAsync("Count sheep, plese");
        app.Provider.Enqueue(Reply.Text("One, two, three."));
        await composer.FocusAsync();
        await page.Keyboard.PressAsync("Control+A");
        await page.Keyboard.TypeAsync("Count sheep, please");
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page.GetByTestId("run-state")).ToHaveAttributeAsync("data-status", "Completed");
        await Assertions.Expect(page.Locator("[data-testid=entry][data-kind=User] .entry-body")).ToHaveTextAsync("Count sheep, please");
        Assert.Single(await app.EventsAsync(created), e => e.Data is UserMessageEdited);

        // Switch: Shift+Tab back into the sidebar to the other session, Enter.
        await TabToAsync(page, page.Locator($"[data-testid=sidebar-session][data-session-id='{other.Id}'] a"), "Shift+Tab");
        await page.Keyboard.PressAsync("Enter");
        await app.WaitForUrlAsync(page, $"**/sessions/{other.Id}");
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("Keyboard other session");
        await Assertions.Expect(page.GetByTestId("sidebar").Locator("[aria-current=page]")).ToContainTextAsync("Keyboard other session");
    }

    /// <summary>Presses <paramref name="key"/> until <paramref name="target"/> has focus (at most 80 times).</summary>
    private static async Task TabToAsync(IPage page, ILocator target, string key)
    {
        for (var presses = 0; presses < 80; presses++)
        {
            if (await target.EvaluateAsync<bool>("e => e === document.activeElement"))
            {
                return;
            }

            await page.Keyboard.PressAsync(key);
        }

        throw new Xunit.Sdk.XunitException($"{target} was not reached with {key}.");
    }
}
