using Conclave.Testing;
using Microsoft.Playwright;

namespace Conclave.EndToEnd.Tests;

/// <summary>The shell on a phone and a laptop, in light and dark, and where focus goes.</summary>
public sealed class LayoutTests(BrowserApp app) : IClassFixture<BrowserApp>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    public static TheoryData<int, int> Screens => new() { { 360, 740 }, { 1280, 800 } };

    [Theory]
    [MemberData(nameof(Screens))]
    public async Task The_top_bar_items_do_not_overlap_and_the_composer_and_run_controls_are_on_screen(int width, int height)
    {
        var session = await app.CreateSessionAsync($"A session with a rather long title to wrap at {width} px");
        var page = await app.OpenAsync($"/sessions/{session.Id}", new() { ViewportSize = new() { Width = width, Height = height } });

        var boxes = new List<(string Name, LocatorBoundingBoxResult Box)>();
        foreach (var item in await page.Locator(".topbar > *:visible, .topbar .mainnav > a").AllAsync())
        {
            if (await item.EvaluateAsync<bool>("e => e.matches('.mainnav')"))
            {
                continue; // its links are checked one by one
            }

            boxes.Add((await item.EvaluateAsync<string>("e => e.dataset.testid || e.className || e.tagName"), (await item.BoundingBoxAsync())!));
        }

        Assert.True(boxes.Count >= 5, $"top bar items: {string.Join(", ", boxes.Select(b => b.Name))}");
        foreach (var (name, box) in boxes)
        {
            Assert.True(box.X >= 0 && box.X + box.Width <= width, $"{name} lies inside the screen ({box.X} + {box.Width} of {width})");
            foreach (var (other, otherBox) in boxes.Where(b => b.Name != name))
            {
                Assert.False(Overlap(box, otherBox), $"{name} and {other} overlap");
            }
        }

        await AssertOnScreenAsync(page, page.GetByTestId("composer-text"), width, height);
        await AssertOnScreenAsync(page, page.GetByTestId("send"), width, height);
        Assert.True(await page.EvaluateAsync<bool>("() => document.scrollingElement.scrollWidth <= innerWidth"), "nothing scrolls sideways");

        // A run's controls fit and work.
        app.Provider.Enqueue(Reply.Chunks("Working ", "on ", "it").StallAfter(1));
        var index = app.Provider.Requests.Count;
        await page.GetByTestId("composer-text").FillAsync("Go");
        await page.GetByTestId("composer-text").PressAsync("Enter");
        await app.Provider.WaitForRequestAsync(index, Deadline);
        await page.GetByTestId("run-bar").ScrollIntoViewIfNeededAsync();
        await AssertOnScreenAsync(page, page.GetByTestId("pause"), width, height);
        await AssertOnScreenAsync(page, page.GetByTestId("stop"), width, height);
        await page.GetByTestId("stop").ClickAsync();
        await Assertions.Expect(page.GetByTestId("run-state")).ToHaveAttributeAsync("data-status", "Cancelled");

        // The files panel: its picker can be reached and nothing in it spills over.
        await page.GetByTestId("files").ScrollIntoViewIfNeededAsync();
        await AssertOnScreenAsync(page, page.Locator("label[for]", new() { HasText = "Choose files" }), width, height);
        Assert.True(await page.EvaluateAsync<bool>("() => document.scrollingElement.scrollWidth <= innerWidth"), "nothing scrolls sideways during a run");
    }

    [Fact]
    public async Task On_a_phone_the_sidebar_is_a_drawer_that_opens_from_the_top_bar_and_closes_on_choosing()
    {
        var first = await app.CreateSessionAsync("Drawer first");
        var second = await app.CreateSessionAsync("Drawer second");
        var page = await app.OpenAsync($"/sessions/{first.Id}", new() { ViewportSize = new() { Width = 360, Height = 740 } });
        var sidebar = page.GetByTestId("sidebar");
        await Assertions.Expect(sidebar).ToBeHiddenAsync();

        await page.GetByTestId("drawer-toggle").ClickAsync();
        await Assertions.Expect(sidebar).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("drawer-toggle")).ToHaveAttributeAsync("aria-expanded", "true");
        await sidebar.Locator($"[data-session-id='{second.Id}'] a").ClickAsync();

        await app.WaitForUrlAsync(page, $"**/sessions/{second.Id}");
        await Assertions.Expect(sidebar).ToBeHiddenAsync();
        await page.GetByTestId("drawer-toggle").ClickAsync();
        await Assertions.Expect(sidebar).ToBeVisibleAsync();
        await page.Keyboard.PressAsync("Escape");
        await Assertions.Expect(sidebar).ToBeHiddenAsync();
        await Assertions.Expect(page.GetByTestId("drawer-toggle")).ToBeFocusedAsync();
    }

    [Fact]
    public async Task Dark_mode_follows_the_system_until_toggled_and_the_choice_is_remembered()
    {
        var page = await app.OpenAsync("/", new() { ColorScheme = ColorScheme.Dark });
        Assert.Equal("rgb(15, 17, 21)", await BackgroundAsync(page));
        await Assertions.Expect(page.GetByTestId("theme-toggle")).ToHaveAttributeAsync("aria-pressed", "true");

        await page.GetByTestId("theme-toggle").ClickAsync();
        Assert.Equal("rgb(247, 247, 248)", await BackgroundAsync(page));
        await Assertions.Expect(page.GetByTestId("theme-toggle")).ToHaveAttributeAsync("aria-pressed", "false");

        await page.ReloadAsync();
        await page.Locator("[data-interactive=true]").WaitForAsync();
        Assert.Equal("light", await page.Locator("html").GetAttributeAsync("data-theme"));
        Assert.Equal("rgb(247, 247, 248)", await BackgroundAsync(page));
        var cookie = (await page.Context.CookiesAsync()).Single(c => c.Name == "conclave.theme");
        Assert.Equal("light", cookie.Value);
    }

    [Fact]
    public async Task Headings_take_focus_after_navigation_without_a_box_for_mouse_users()
    {
        var page = await app.OpenAsync("/");

        await page.GetByTestId("nav-teams").ClickAsync();
        await page.Locator("[data-testid=teams][data-interactive=true]").WaitForAsync();

        await Assertions.Expect(page.Locator("h1")).ToBeFocusedAsync();
        Assert.Equal("none", await page.Locator("h1").EvaluateAsync<string>("h => getComputedStyle(h).outlineStyle"));
        // Keyboard users still see where they are on what they can operate.
        await page.Keyboard.PressAsync("Tab");
        var focused = page.Locator(":focus");
        Assert.NotEqual("none", await focused.EvaluateAsync<string>("e => getComputedStyle(e).outlineStyle"));
    }

    private static async Task<string> BackgroundAsync(IPage page) =>
        await page.EvaluateAsync<string>("() => getComputedStyle(document.documentElement).backgroundColor");

    private static async Task AssertOnScreenAsync(IPage page, ILocator locator, int width, int height)
    {
        var box = await locator.BoundingBoxAsync();
        Assert.NotNull(box);
        var scrollY = await page.EvaluateAsync<double>("() => scrollY");
        Assert.True(box.X >= 0 && box.X + box.Width <= width + 0.5, $"{locator} fits the width ({box.X} + {box.Width} of {width})");
        Assert.True(box.Y >= 0 && box.Y + box.Height <= height + 0.5, $"{locator} is on screen without scrolling ({box.Y} + {box.Height} of {height}, scrolled {scrollY})");
    }

    private static bool Overlap(LocatorBoundingBoxResult a, LocatorBoundingBoxResult b) =>
        a.X < b.X + b.Width - 0.5 && b.X < a.X + a.Width - 0.5 && a.Y < b.Y + b.Height - 0.5 && b.Y < a.Y + a.Height - 0.5;
}
