using System.Collections.Concurrent;
using Conclave.Testing.Host;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;

namespace Conclave.EndToEnd.Tests;

/// <summary>
/// The Host on a real Kestrel port with Debian's Chromium driven by Playwright. Playwright's own
/// browser download cannot work offline, so the system Chromium is launched by path.
/// </summary>
public class BrowserApp() : ConclaveApp(kestrel: true)
{
    private IPlaywright? _playwright;
    private IBrowserContext? _context;

    private IReadOnlyList<KeyValuePair<string, string>> _signInCookies = [];

    public IBrowser Browser { get; private set; } = null!;

    /// <summary>What the Host logged at warning level or above: a failing wait says what the Host saw.</summary>
    public CapturedLogs Logs { get; } = new();

    /// <summary>The current page's console errors and warnings (Blazor's circuit and reconnection messages among them).</summary>
    private readonly ConcurrentQueue<string> _console = new();

    protected override void ConfigureHost(IWebHostBuilder builder) => builder.ConfigureLogging(logging =>
    {
        logging.AddProvider(Logs);
        logging.AddFilter<CapturedLogs>(null, LogLevel.Warning);
    });

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        // Pages open signed in as the default user (the owner of what app.Client creates); the
        // cookie comes from the real login form, as the browser would get it.
        _signInCookies = await SignInCookiesAsync(DefaultUserName);

        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Environment.GetEnvironmentVariable("Conclave__Browser__ExecutablePath") ?? "/usr/bin/chromium",
            Headless = true,
            Args =
            [
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--disable-quic",
            ],
        });
    }

    /// <summary>Opens a page and waits until Blazor made it interactive (clicks before that are plain HTML).</summary>
    public async Task<IPage> OpenAsync(string path, BrowserNewContextOptions? options = null)
    {
        var page = await NewPageAsync(options);
        await page.GotoAsync(path);
        await page.Locator("[data-interactive=true]").WaitForAsync();
        return page;
    }

    /// <summary>A fresh browser context signed in as the default user; the previous test's is closed first, so its circuit ends too.</summary>
    public async Task<IPage> NewPageAsync(BrowserNewContextOptions? options = null)
    {
        var page = await NewAnonymousPageAsync(options);
        await page.Context.AddCookiesAsync(_signInCookies.Select(c => new Cookie { Name = c.Key, Value = c.Value, Url = BaseAddress.ToString() }));
        return page;
    }

    /// <summary>A fresh browser context signed in as <paramref name="userName"/> (an existing account) through the login form.</summary>
    public async Task<IPage> NewPageAsAsync(string userName, BrowserNewContextOptions? options = null)
    {
        var cookies = await SignInCookiesAsync(userName);
        var page = await NewAnonymousPageAsync(options);
        await page.Context.AddCookiesAsync(cookies.Select(c => new Cookie { Name = c.Key, Value = c.Value, Url = BaseAddress.ToString() }));
        return page;
    }

    /// <summary>A fresh browser context nobody signed in to (with <paramref name="options"/>: a locale, a viewport, a colour scheme).</summary>
    public async Task<IPage> NewAnonymousPageAsync(BrowserNewContextOptions? options = null)
    {
        if (_context is not null)
        {
            await _context.CloseAsync();
        }

        options ??= new BrowserNewContextOptions();
        options.BaseURL = BaseAddress.ToString();
        var context = await Browser.NewContextAsync(options);
        _context = context;
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(15_000);
        _console.Clear();
        page.Console += (_, message) =>
        {
            if (message.Type is "error" or "warning")
            {
                _console.Enqueue($"{message.Type}: {message.Text}");
            }
        };
        return page;
    }

    /// <summary>
    /// Waits for <paramref name="page"/> to reach a URL matching <paramref name="glob"/> (after a form submit or a
    /// link); if it does not, the failure says where the page is, what it shows as an error, whether its circuit
    /// is reconnecting, and what the browser and the Host last complained about, not just that time ran out.
    /// </summary>
    public async Task WaitForUrlAsync(IPage page, string glob, float timeoutMs = 15_000)
    {
        try
        {
            await page.WaitForURLAsync(glob, new() { Timeout = timeoutMs });
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"The page did not reach {glob} in {timeoutMs / 1000} s. {await ExplainAsync(page)}", e);
        }
    }

    private async Task<string> ExplainAsync(IPage page)
    {
        var alerts = await page.Locator("[role=alert]:visible").AllTextContentsAsync();
        var interactive = await page.Locator("[data-interactive]").EvaluateAllAsync<string[]>("els => els.map(e => e.dataset.interactive)");
        var reconnecting = await page.Locator("#components-reconnect-modal:visible, .components-reconnect-show").CountAsync() > 0;
        var host = Logs.Lines
            .Where(l => l.StartsWith("Warning", StringComparison.Ordinal) || l.StartsWith("Error", StringComparison.Ordinal) || l.StartsWith("Critical", StringComparison.Ordinal))
            .TakeLast(5)
            .Select(l => l.Length > 600 ? l[..600] + "…" : l);
        return $"It is at {page.Url}; data-interactive [{string.Join(", ", interactive)}]; reconnecting: {reconnecting}; " +
            $"alerts [{string.Join(" | ", alerts)}]; browser console [{string.Join(" | ", _console.TakeLast(5))}]; " +
            $"Host warnings and errors [{string.Join(" || ", host)}]";
    }

    /// <summary>Where a test saves a screenshot (next to the test binaries, under screenshots/).</summary>
    public static string ScreenshotPath(string name)
    {
        var dir = Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(dir);
        return Path.Combine(dir, name);
    }

    /// <summary>docs/images/ of this checkout, found from the running binary: where the README's pictures are made.</summary>
    public static string DocsImage(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Monolith.sln")))
            {
                return Path.Combine(dir.FullName, "docs", "images", name);
            }
        }

        throw new InvalidOperationException($"No Monolith.sln above {AppContext.BaseDirectory}.");
    }

    public override async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        _playwright?.Dispose();
        await base.DisposeAsync();
    }
}
