using System.Text;
using System.Text.Json;
using Conclave.Agents.Contracts;
using Conclave.Egress;
using Conclave.Sandbox.Contracts;
using Conclave.Web.Browsing;
using Conclave.Web.Contracts;
using Conclave.Web.Search;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;

namespace Conclave.Web.Tools;

/// <summary>
/// The browser and search as agent tools, offered through the Agents module's <see cref="IToolSource"/>.
/// Every answer is text for the model; page text and search snippets come inside <see cref="UntrustedContent"/>.
/// Mistakes the agent can fix (bad ref, refused address, timeout) are failed results saying what to do.
/// </summary>
internal sealed partial class WebTools(SessionBrowsers browsers, WebSearch search, EgressPolicy policy, IWorkspace workspace, ILogger<WebTools> logger) : IToolSource
{
    public const string Source = "Web";

    private static readonly string NoParameters = Schema();
    private static readonly (string, string, string, bool) Ref = ("ref", "string", "An element's ref from read_page, e.g. e12.", true);

    private static readonly ToolDescriptor Search = new("web_search",
        "Search the web. Returns the title, URL and snippet of each result.",
        Schema(("query", "string", "What to search for.", true)),
        ToolPolicy.Auto, Source);

    private static readonly IReadOnlyList<ToolDescriptor> BrowserTools =
    [
        new("open_url", "Open a web page (http or https) in your browser.",
            Schema(("url", "string", "The address, e.g. https://example.org/page.", true)), ToolPolicy.Auto, Source),
        new("read_page", "Read the open page: its text with numbered refs (e1, e2, ...) to links, buttons and fields, to use with click, type, select and download.",
            NoParameters, ToolPolicy.Auto, Source),
        new("click", "Click a link or button by its ref from read_page.", Schema(Ref), ToolPolicy.Auto, Source),
        new("type", "Type text into a field by its ref from read_page, replacing what it held; submit presses Enter afterwards.",
            Schema(Ref, ("text", "string", "The text to type.", true), ("submit", "boolean", "Press Enter after typing.", false)), ToolPolicy.Auto, Source),
        new("select", "Choose an option of a drop-down by its ref from read_page.",
            Schema(Ref, ("option", "string", "The option's label or value.", true)), ToolPolicy.Auto, Source),
        new("back", "Go back to the previous page.", NoParameters, ToolPolicy.Auto, Source),
        new("screenshot", "Take a screenshot of the open page; it is saved to the workspace and shown to the user.", NoParameters, ToolPolicy.Auto, Source),
        new("download", "Download the file a link or button leads to, by its ref from read_page, into the workspace's downloads/ folder.",
            Schema(Ref), ToolPolicy.Auto, Source),
    ];

    /// <summary>The names of the tools, search included.</summary>
    public static IReadOnlyList<string> Names => [Search.Name, .. BrowserTools.Select(t => t.Name)];

    private static string Schema(params (string Name, string Type, string Description, bool Required)[] parameters) =>
        JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["type"] = "object",
            ["properties"] = parameters.ToDictionary(p => p.Name, p => new Dictionary<string, string> { ["type"] = p.Type, ["description"] = p.Description }),
            ["required"] = parameters.Where(p => p.Required).Select(p => p.Name).ToArray(),
        });

    /// <summary>The browser tools, and web_search when a backend is configured; the same for every user.</summary>
    public IReadOnlyList<ToolDescriptor> ToolsFor(string ownerId) => search.Backend == WebSearchBackend.None ? BrowserTools : [Search, .. BrowserTools];

    public async Task<ToolResult> CallAsync(string tool, JsonElement arguments, ToolCallContext context, CancellationToken cancellationToken)
    {
        try
        {
            return tool switch
            {
                "web_search" => await SearchAsync(Text(arguments, "query"), cancellationToken),
                "open_url" => await BrowseAsync(context, b => OpenAsync(b, Text(arguments, "url")), cancellationToken),
                "read_page" => await BrowseAsync(context, ReadAsync, cancellationToken),
                "click" => await BrowseAsync(context, b => ClickAsync(b, Text(arguments, "ref")), cancellationToken),
                "type" => await BrowseAsync(context, b => TypeAsync(b, Text(arguments, "ref"), Text(arguments, "text"), arguments.TryGetProperty("submit", out var s) && s.ValueKind == JsonValueKind.True), cancellationToken),
                "select" => await BrowseAsync(context, b => SelectAsync(b, Text(arguments, "ref"), Text(arguments, "option")), cancellationToken),
                "back" => await BrowseAsync(context, BackAsync, cancellationToken),
                "screenshot" => await BrowseAsync(context, b => ScreenshotAsync(b, cancellationToken), cancellationToken),
                "download" => await BrowseAsync(context, b => DownloadAsync(b, Text(arguments, "ref"), cancellationToken), cancellationToken),
                _ => ToolResult.Error($"error: the Web module has no tool '{tool}'."),
            };
        }
        catch (Exception e) when (e is BrowserCrashedException or BrowserBusyException or BrowserUnavailableException or SearchFailedException)
        {
            LogToolFailed(logger, tool, context.SessionId, context.RunId, e.Message);
            return ToolResult.Error($"error: {e.Message}");
        }
        catch (TimeoutException)
        {
            // The browser did not answer at all within the call's limit (beyond Playwright's own timeouts).
            LogToolFailed(logger, tool, context.SessionId, context.RunId, "no answer within the call timeout");
            return ToolResult.Error($"error: the browser did not answer within {browsers.Options.CallTimeout.TotalSeconds:0} s. Try again; if it keeps failing, go on without the web.");
        }
    }

    private async Task<ToolResult> SearchAsync(string query, CancellationToken cancellationToken)
    {
        query = query.Trim();
        if (query.Length is 0 or > 500)
        {
            return ToolResult.Error("error: give a search query of 1 to 500 characters.");
        }

        var results = await search.SearchAsync(query, cancellationToken);
        if (results.Count == 0)
        {
            return ToolResult.Ok($"No results for \"{query}\".");
        }

        var text = new StringBuilder();
        for (var i = 0; i < results.Count; i++)
        {
            text.Append(i + 1).Append(". ").Append(results[i].Title).Append('\n')
                .Append("   ").Append(results[i].Url).Append('\n')
                .Append("   ").Append(results[i].Snippet.ReplaceLineEndings(" ")).Append('\n');
        }

        return ToolResult.Ok(UntrustedContent.Wrap($"search results for \"{query}\"", text.ToString().TrimEnd()));
    }

    /// <summary>A browser call: within the call timeout, with a clear answer when it runs out, and the page checked afterwards.</summary>
    private async Task<ToolResult> BrowseAsync(ToolCallContext context, Func<SessionBrowser, Task<ToolResult>> action, CancellationToken cancellationToken) =>
        await browsers.UseAsync(context.SessionId, context.RunId, async browser =>
        {
            try
            {
                var result = await action(browser);
                return await RefusedWhereAsync(browser) ?? result;
            }
            catch (TimeoutException)
            {
                // The page keeps loading (or an element never came): leave it, so the next call starts clean.
                await ReplacePageAsync(browser);
                return ToolResult.Error($"error: the page did not respond within {browsers.Options.CallTimeout.TotalSeconds:0} s, so the call stopped. Try another page, or open this one again later.");
            }
            catch (PlaywrightException e) when (IsStaleRef(e))
            {
                return ToolResult.Error("error: that ref is not on the page as last read. Call read_page, then use a ref from its answer.");
            }
            catch (PlaywrightException e) when (e.Message.Contains("net::", StringComparison.Ordinal))
            {
                var error = e.Message[e.Message.IndexOf("net::", StringComparison.Ordinal)..].Split(' ', '\n')[0];
                return ToolResult.Error($"error: the page could not be loaded ({error}). An address the egress policy refuses fails like this too.");
            }
        }, cancellationToken);

    private async Task<ToolResult> OpenAsync(SessionBrowser browser, string address)
    {
        if (!Uri.TryCreate(address.Trim(), UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
        {
            return ToolResult.Error("error: open_url takes an http:// or https:// address; file:, chrome:, view-source:, data:, javascript: and other schemes are refused.");
        }

        if (browsers.DenyList.FirstOrDefault(d => d.DeniesName(url.IdnHost)) is { } denied)
        {
            LogRefused(logger, browser.SessionId, browser.RunId, SessionBrowsers.Shorten(url.ToString()), $"denied by the entry {denied}");
            return ToolResult.Error($"error: {url.Host} is denied by the administrator's deny list ({denied}).");
        }

        if (policy.RefusalOf(url, browsers.AllowList) is { } refusal)
        {
            LogRefused(logger, browser.SessionId, browser.RunId, SessionBrowsers.Shorten(url.ToString()), refusal);
            return ToolResult.Error($"error: {refusal}");
        }

        var page = await PageAsync(browser);
        var response = await page.GotoAsync(url.ToString(), new PageGotoOptions { WaitUntil = WaitUntilState.Load });
        browser.Read = false;
        return await DescribeAsync(page, "Opened", response);
    }

    private async Task<ToolResult> ReadAsync(SessionBrowser browser)
    {
        var page = await PageAsync(browser);
        var snapshot = await page.AriaSnapshotAsync(new PageAriaSnapshotOptions { Mode = AriaSnapshotMode.Ai });
        browser.Read = true;
        var max = browsers.Options.MaxReadChars;
        var cut = snapshot.Length > max;
        var content = $"URL: {page.Url}\nTitle: {await page.TitleAsync()}\n\n{(cut ? snapshot[..max] : snapshot)}";
        var wrapped = UntrustedContent.Wrap(SessionBrowsers.Shorten(page.Url), content);
        return ToolResult.Ok(cut ? $"{wrapped}\n(The page was cut at {max:N0} characters.)" : wrapped);
    }

    private async Task<ToolResult> ClickAsync(SessionBrowser browser, string reference)
    {
        var page = await PageAsync(browser);
        if (Unread(browser) is { } unread)
        {
            return unread;
        }

        await page.GetByRef(reference.Trim()).ClickAsync();
        await page.WaitForLoadStateAsync(LoadState.Load);
        var now = await PageAsync(browser);
        browser.Read = false;
        return await DescribeAsync(now, $"Clicked {reference}; now at", null);
    }

    private async Task<ToolResult> TypeAsync(SessionBrowser browser, string reference, string text, bool submit)
    {
        var page = await PageAsync(browser);
        if (Unread(browser) is { } unread)
        {
            return unread;
        }

        var field = page.GetByRef(reference.Trim());
        await field.FillAsync(text);
        if (!submit)
        {
            return ToolResult.Ok($"Typed {text.Length} characters into {reference}.");
        }

        await field.PressAsync("Enter");
        await page.WaitForLoadStateAsync(LoadState.Load);
        browser.Read = false;
        return await DescribeAsync(await PageAsync(browser), $"Typed into {reference} and submitted; now at", null);
    }

    private async Task<ToolResult> SelectAsync(SessionBrowser browser, string reference, string option)
    {
        var page = await PageAsync(browser);
        if (Unread(browser) is { } unread)
        {
            return unread;
        }

        // A string matches an option's value or its label.
        await page.GetByRef(reference.Trim()).SelectOptionAsync(option);
        return ToolResult.Ok($"Selected \"{option}\" in {reference}.");
    }

    private async Task<ToolResult> BackAsync(SessionBrowser browser)
    {
        var page = await PageAsync(browser);
        var response = await page.GoBackAsync();
        browser.Read = false;
        return response is null && page.Url == "about:blank"
            ? ToolResult.Error("error: there is no previous page.")
            : await DescribeAsync(page, "Went back to", response);
    }

    private async Task<ToolResult> ScreenshotAsync(SessionBrowser browser, CancellationToken cancellationToken)
    {
        var page = await PageAsync(browser);
        var png = await page.ScreenshotAsync(new PageScreenshotOptions { Type = ScreenshotType.Png });
        browser.Screenshots++;
        var path = $"browser/screenshot-{DateTimeOffset.UtcNow:yyyyMMdd-HHmmss}-{browser.Screenshots}.png";
        try
        {
            await workspace.WriteAsync(browser.SessionId, path, new MemoryStream(png), cancellationToken);
        }
        catch (WorkspaceException e)
        {
            return ToolResult.Error($"error: the screenshot could not be saved: {e.Message}");
        }

        return ToolResult.Ok($"Saved a screenshot of {SessionBrowsers.Shorten(page.Url)} to {path}.", path);
    }

    private async Task<ToolResult> DownloadAsync(SessionBrowser browser, string reference, CancellationToken cancellationToken)
    {
        var page = await PageAsync(browser);
        if (Unread(browser) is { } unread)
        {
            return unread;
        }

        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByRef(reference.Trim()).ClickAsync());
        try
        {
            if (await download.FailureAsync() is { } failure)
            {
                return ToolResult.Error($"error: the download failed ({failure}).");
            }

            var file = new FileInfo(await download.PathAsync());
            var max = browsers.Options.MaxDownloadBytes;
            if (file.Length > max)
            {
                return ToolResult.Error($"error: the file is {file.Length:N0} bytes, over the download limit of {max:N0} bytes; nothing was saved.");
            }

            var path = $"downloads/{SafeName(download.SuggestedFilename)}";
            try
            {
                await using var content = file.OpenRead();
                await workspace.WriteAsync(browser.SessionId, path, content, cancellationToken);
            }
            catch (WorkspaceQuotaExceededException e)
            {
                return ToolResult.Error($"error: the download was refused: {e.Message} Nothing was saved.");
            }
            catch (WorkspaceException e)
            {
                return ToolResult.Error($"error: the download could not be saved: {e.Message}");
            }

            LogDownloaded(logger, browser.SessionId, browser.RunId, path, file.Length);
            return ToolResult.Ok($"Downloaded {file.Length:N0} bytes to {path}.");
        }
        finally
        {
            await download.DeleteAsync();
        }
    }

    /// <summary>
    /// After every call: a page that ended anywhere but http(s) (or the blank start page) is left for a
    /// blank one, and the agent is told. Chromium itself refuses web pages' navigations to file: or chrome:;
    /// this keeps whatever slips through from being read.
    /// </summary>
    private async Task<ToolResult?> RefusedWhereAsync(SessionBrowser browser)
    {
        if (browser.Page is not { IsClosed: false } page || Allowed(page.Url))
        {
            return null;
        }

        LogRefused(logger, browser.SessionId, browser.RunId, SessionBrowsers.Shorten(page.Url), "not an http(s) page");
        await page.GotoAsync("about:blank");
        return ToolResult.Error("error: the page went to an address that is not http or https; it was closed. Open an http(s) page.");
    }

    private static bool Allowed(string url) =>
        url == "about:blank" || url.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || url.StartsWith("https://", StringComparison.OrdinalIgnoreCase);

    private static ToolResult? Unread(SessionBrowser browser) =>
        browser.Read ? null : ToolResult.Error("error: read the page first: call read_page, then use a ref from its answer.");

    /// <summary>The page the agent is on; a new one when it was closed.</summary>
    private static async Task<IPage> PageAsync(SessionBrowser browser)
    {
        if (browser.Page is { IsClosed: false } page)
        {
            return page;
        }

        browser.Page = browser.Context.Pages.LastOrDefault(p => !p.IsClosed) ?? await browser.Context.NewPageAsync();
        browser.Read = false;
        return browser.Page;
    }

    private static async Task ReplacePageAsync(SessionBrowser browser)
    {
        if (browser.Page is { } stuck)
        {
            browser.Page = null;
            _ = stuck.CloseAsync(new PageCloseOptions { RunBeforeUnload = false });
        }

        browser.Page = await browser.Context.NewPageAsync();
        browser.Read = false;
    }

    private static async Task<ToolResult> DescribeAsync(IPage page, string what, IResponse? response)
    {
        var title = await page.TitleAsync();
        var status = response is null ? "" : $" (HTTP {response.Status})";
        var text = $"{what} {SessionBrowsers.Shorten(page.Url)}{status}, titled \"{(title.Length > 200 ? title[..200] + "…" : title)}\". Call read_page to read it.";
        return response is { Status: >= 400 } ? new ToolResult(text, true, []) : ToolResult.Ok(text);
    }

    private static bool IsStaleRef(PlaywrightException e) =>
        e.Message.Contains("aria-ref", StringComparison.OrdinalIgnoreCase) || e.Message.Contains("ref=", StringComparison.Ordinal);

    private static string SafeName(string name)
    {
        var clean = new string([.. Path.GetFileName(name).Select(c => char.IsLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_')]).Trim('.');
        return clean.Length == 0 ? "download" : clean.Length > 100 ? clean[^100..] : clean;
    }

    private static string Text(JsonElement arguments, string name) =>
        arguments.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() ?? "" : "";

    [LoggerMessage(Level = LogLevel.Warning, Message = "Browser: session {SessionId}, run {RunId}: {Url} refused: {Reason}")]
    private static partial void LogRefused(ILogger logger, Guid sessionId, Guid runId, string url, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Browser: session {SessionId}, run {RunId} downloaded {Path} ({Bytes} bytes)")]
    private static partial void LogDownloaded(ILogger logger, Guid sessionId, Guid runId, string path, long bytes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Web tool {Tool} failed for session {SessionId}, run {RunId}: {Reason}")]
    private static partial void LogToolFailed(ILogger logger, string tool, Guid sessionId, Guid runId, string reason);
}
