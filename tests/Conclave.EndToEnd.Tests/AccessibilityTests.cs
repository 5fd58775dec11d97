using Conclave.Sessions.Contracts;
using Conclave.Testing;
using Deque.AxeCore.Commons;
using Deque.AxeCore.Playwright;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Conclave.EndToEnd.Tests;

/// <summary>
/// axe-core on every page, in light and dark, on a desktop and a phone (360×740, the sidebar a drawer,
/// checked open too): no serious or critical violation; the others are printed
/// (dotnet test --logger "console;verbosity=detailed" shows them).
/// </summary>
public sealed class AccessibilityTests(BrowserApp app, ITestOutputHelper output) : IClassFixture<BrowserApp>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData("light", "desktop")]
    [InlineData("dark", "desktop")]
    [InlineData("light", "phone")]
    [InlineData("dark", "phone")]
    public async Task Every_page_has_no_serious_or_critical_violation(string theme, string screen)
    {
        var scheme = theme == "dark" ? ColorScheme.Dark : ColorScheme.Light;
        var viewport = screen == "phone" ? new ViewportSize { Width = 360, Height = 740 } : new ViewportSize { Width = 1280, Height = 800 };
        var admin = $"auditor-{theme}-{screen}";
        var user = await app.CreateUserAsync(admin);
        await app.MakeAdminAsync(admin);
        var sessions = app.Service<ISessions>();
        await sessions.CreateAsync(user.Id, "An earlier session", CancellationToken.None);
        var session = await sessions.CreateAsync(user.Id, "A session mid-run", CancellationToken.None);
        app.Provider.Enqueue(Reply.Chunks("Thinking about ", "**the plan**: first ", "the data").StallAfter(2));
        var index = app.Provider.Requests.Count;
        var posted = await sessions.PostMessageAsync(user.Id, session.Id, "Plan the analysis of my data", CancellationToken.None);
        await app.Provider.WaitForRequestAsync(index, Deadline);

        var findings = new List<string>();
        async Task CheckAsync(string name, IPage page)
        {
            var result = await page.RunAxe();
            foreach (var violation in result.Violations)
            {
                findings.Add($"{theme} {screen} {name}: [{violation.Impact}] {violation.Id}: {violation.Help} ({violation.Nodes.Length}× e.g. {violation.Nodes[0].Target})");
            }
        }

        foreach (var (name, path, ready) in new[]
        {
            // First: the provider gives up on a stalled answer after 10 s.
            ("session mid-run", $"/sessions/{session.Id}", "[data-testid=streaming]"),
            ("sessions", "/", "[data-interactive=true]"),
            ("teams", "/teams", "[data-testid=teams][data-interactive=true]"),
            ("team editor", "/teams/new", "[data-testid=team-editor][data-interactive=true]"),
            ("providers", "/providers", "[data-testid=providers][data-interactive=true]"),
            ("account", "/account", "[data-testid=account]"),
            ("admin", "/admin", "[data-testid=admin][data-interactive=true]"),
        })
        {
            var page = await app.NewPageAsAsync(admin, new() { ColorScheme = scheme, ViewportSize = viewport });
            await page.GotoAsync(path);
            await page.Locator(ready).First.WaitForAsync();
            // On a phone the sidebar is a closed drawer: there, not visible.
            await page.Locator("[data-testid=sidebar][data-ready=true]").WaitForAsync(new() { State = WaitForSelectorState.Attached });
            await CheckAsync(name, page);
            if (name == "session mid-run")
            {
                // The user menu open, too.
                await page.GetByTestId("user-menu-button").ClickAsync();
                await CheckAsync("user menu", page);
            }

            if (name == "sessions" && screen == "phone")
            {
                await page.GetByTestId("drawer-toggle").ClickAsync();
                await Assertions.Expect(page.GetByTestId("sidebar")).ToBeInViewportAsync();
                await CheckAsync("sidebar drawer", page);
            }
        }

        var signIn = await app.NewAnonymousPageAsync(new() { ColorScheme = scheme, ViewportSize = viewport });
        await signIn.GotoAsync("/login");
        await CheckAsync("sign-in", signIn);

        await using (var scope = app.Services.CreateAsyncScope())
        {
            try
            {
                await scope.ServiceProvider.GetRequiredService<IRunControl>().CancelAsync(user.Id, session.Id, posted.RunId, CancellationToken.None);
            }
            catch (RunAlreadyEndedException)
            {
                // The provider gave up on the stalled answer first.
            }
        }

        foreach (var finding in findings)
        {
            output.WriteLine(finding);
        }

        output.WriteLine($"{theme} {screen}: {findings.Count} violation(s) in all");
        Assert.DoesNotContain(findings, f => f.Contains("[serious]", StringComparison.Ordinal) || f.Contains("[critical]", StringComparison.Ordinal));
    }
}
