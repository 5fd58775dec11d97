using Conclave.Testing;
using Microsoft.Playwright;

namespace Conclave.EndToEnd.Tests;

/// <summary>The README's screenshots: a finished team run in light and dark mode, and on a phone.</summary>
public sealed class ScreenshotTests(BrowserApp app) : IClassFixture<BrowserApp>
{
    [Fact]
    public async Task A_finished_run_is_photographed_in_light_dark_and_on_a_phone()
    {
        await app.CreateSessionAsync("Population of Nordic capitals");
        await app.CreateSessionAsync("Clean up the sales CSV");
        var session = await app.CreateSessionAsync("Squares of 1 to 5");
        app.Provider.Enqueue(Reply.Text(
            "Here are the squares, computed in Python:\n\n```python\nsquares = [n * n for n in range(1, 6)]\nprint(squares)  # [1, 4, 9, 16, 25]\n```\n\n" +
            "| n | n² |\n|---|---|\n| 1 | 1 |\n| 2 | 4 |\n| 3 | 9 |\n| 4 | 16 |\n| 5 | 25 |\n\nEach square is the number times itself."));
        var posted = await app.PostMessageAsync(session.Id, "Compute the squares of 1 to 5 and show them as a table.");
        await app.WaitForRunEndAsync(session.Id, posted.RunId);

        foreach (var (name, width, height, scheme) in new[]
        {
            ("ui-light.png", 1280, 800, ColorScheme.Light),
            ("ui-dark.png", 1280, 800, ColorScheme.Dark),
            ("ui-mobile.png", 390, 780, ColorScheme.Light),
        })
        {
            var page = await app.NewPageAsync();
            await page.SetViewportSizeAsync(width, height);
            await page.EmulateMediaAsync(new() { ColorScheme = scheme });
            await page.GotoAsync($"/sessions/{session.Id}");
            await page.Locator("[data-testid=session][data-interactive=true]").WaitForAsync();
            await Assertions.Expect(page.Locator("[data-testid=entry].entry-agent")).ToHaveCountAsync(1);
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = BrowserApp.DocsImage(name) });
        }
    }
}
