using System.Collections.Concurrent;
using Conclave.Egress;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Playwright;

namespace Conclave.Web.Browsing;

/// <summary>
/// The node's one Chromium (started on first use, sandboxed, see <see cref="SandboxedChromium"/>) and a
/// browser context per session. All traffic goes through this node's <see cref="EgressProxy"/>, each context
/// with its own proxy credentials. A crashed browser is dropped with every context; the call that met the
/// crash gets <see cref="BrowserCrashedException"/>, and the next call starts a new browser.
/// </summary>
internal sealed partial class SessionBrowsers(
    IOptions<BrowserOptions> options,
    EgressPolicy policy,
    TimeProvider clock,
    ILoggerFactory loggers) : IAsyncDisposable
{
    private readonly BrowserOptions _options = options.Value;
    private readonly ILogger _logger = loggers.CreateLogger<SessionBrowsers>();
    private readonly SemaphoreSlim _launch = new(1, 1);
    private readonly ConcurrentDictionary<Guid, SessionBrowser> _sessions = new();
    private IPlaywright? _playwright;
    private IBrowser? _browser;
    private SandboxedChromium? _chromium;
    private EgressProxy? _proxy;
    private int _launches;
    private int _disposed;

    public BrowserOptions Options => _options;

    /// <summary>Sessions with an open context.</summary>
    public int Contexts => _sessions.Count;

    /// <summary>How many times a browser was started (a restart after a crash counts).</summary>
    public int Launches => _launches;

    /// <summary>A browser is running and connected.</summary>
    public bool Connected => _browser?.IsConnected == true;

    /// <summary>The user Chromium runs as, once started ("conclave-browser (uid 995)"); null while not started or when the Host is not root.</summary>
    public string? SandboxUser => _chromium?.User;

    /// <summary>The proxy all browsing goes through, once started.</summary>
    public Uri? ProxyAddress => _proxy?.Address;

    /// <summary>Entries allowed for the browser besides the egress policy's own.</summary>
    public IReadOnlyList<EgressRule> AllowList { get; } = [.. options.Value.AllowList.Select(e => EgressRule.TryParse(e, out var rule, out _) ? rule : null).OfType<EgressRule>()];

    /// <summary>Entries denied to the browser whatever allows them.</summary>
    public IReadOnlyList<EgressDenyRule> DenyList { get; } = [.. options.Value.DenyList.Select(e => EgressDenyRule.TryParse(e, out var rule, out _) ? rule : null).OfType<EgressDenyRule>()];

    /// <summary>
    /// Runs <paramref name="action"/> on the session's browser (creating its context if needed), one call
    /// per session at a time, within <see cref="BrowserOptions.CallTimeout"/>.
    /// </summary>
    public async Task<T> UseAsync<T>(Guid sessionId, Guid runId, Func<SessionBrowser, Task<T>> action, CancellationToken cancellationToken)
    {
        var session = await SessionAsync(sessionId, cancellationToken);
        await session.Gate.WaitAsync(cancellationToken);
        try
        {
            if (session.RunId != runId)
            {
                // The proxy's log lines name the run too.
                session.RunId = runId;
                session.ProxyClient = _proxy!.Retag(session.ProxyClient, $"session {sessionId}, run {runId}");
            }

            session.LastUsed = clock.GetUtcNow();
            return await action(session).WaitAsync(_options.CallTimeout + TimeSpan.FromSeconds(5), cancellationToken);
        }
        catch (Exception e) when (e is PlaywrightException or TimeoutException && _browser?.IsConnected != true)
        {
            throw new BrowserCrashedException(e);
        }
        finally
        {
            session.LastUsed = clock.GetUtcNow();
            session.Gate.Release();
        }
    }

    /// <summary>Closes the session's context (its cookies and storage go with it).</summary>
    public async Task CloseAsync(Guid sessionId)
    {
        if (_sessions.TryRemove(sessionId, out var session))
        {
            _proxy?.Revoke(session.ProxyClient);
            try
            {
                await session.Context.CloseAsync();
            }
            catch (PlaywrightException)
            {
                // The browser is gone already.
            }

            LogClosed(_logger, sessionId);
        }
    }

    /// <summary>Closes the contexts of sessions idle for longer than <see cref="BrowserOptions.IdleTimeout"/> (not one in a call).</summary>
    public async Task<int> CloseIdleAsync()
    {
        var before = clock.GetUtcNow() - _options.IdleTimeout;
        var closed = 0;
        foreach (var session in _sessions.Values.Where(s => s.LastUsed < before && s.Gate.CurrentCount == 1).ToList())
        {
            await CloseAsync(session.SessionId);
            closed++;
        }

        return closed;
    }

    private async Task<SessionBrowser> SessionAsync(Guid sessionId, CancellationToken cancellationToken)
    {
        if (_sessions.TryGetValue(sessionId, out var existing) && _browser?.IsConnected == true)
        {
            return existing;
        }

        await _launch.WaitAsync(cancellationToken);
        try
        {
            if (_sessions.TryGetValue(sessionId, out existing) && _browser?.IsConnected == true)
            {
                return existing;
            }

            var browser = await BrowserAsync();
            if (_sessions.Count >= _options.MaxContexts)
            {
                throw new BrowserBusyException(
                    $"The browser is busy: {_sessions.Count} sessions are browsing on this server, the most it allows ({BrowserOptions.Section}:MaxContexts). Try again in a few minutes.");
            }

            var client = _proxy!.Register($"session {sessionId}");
            var context = await browser.NewContextAsync(new BrowserNewContextOptions
            {
                Proxy = new Proxy { Server = _proxy.Address.ToString(), Username = client.UserName, Password = client.Password, Bypass = "<-loopback>" },
                AcceptDownloads = true,
                ServiceWorkers = ServiceWorkerPolicy.Block,
                ViewportSize = new ViewportSize { Width = 1280, Height = 800 },
            });
            context.SetDefaultTimeout((float)_options.CallTimeout.TotalMilliseconds);
            context.SetDefaultNavigationTimeout((float)_options.CallTimeout.TotalMilliseconds);
            var session = new SessionBrowser(sessionId, context, client, clock.GetUtcNow());
            context.Page += (_, page) => Opened(session, page);
            session.Page = await context.NewPageAsync();
            _sessions[sessionId] = session;
            LogOpened(_logger, sessionId);
            return session;
        }
        finally
        {
            _launch.Release();
        }
    }

    /// <summary>A page the context opened (the first, a pop-up, a new tab): watched, or closed beyond the cap.</summary>
    private void Opened(SessionBrowser session, IPage page)
    {
        if (session.Context.Pages.Count > _options.MaxPagesPerContext)
        {
            LogPageCapped(_logger, session.SessionId, session.RunId, _options.MaxPagesPerContext);
            _ = page.CloseAsync();
            return;
        }

        page.FrameNavigated += (_, frame) =>
        {
            if (frame == page.MainFrame)
            {
                LogNavigated(_logger, session.SessionId, session.RunId, Shorten(frame.Url));
            }
        };
        page.RequestFailed += (_, request) =>
        {
            if (request.IsNavigationRequest)
            {
                LogNavigationFailed(_logger, session.SessionId, session.RunId, Shorten(request.Url), request.Failure ?? "failed");
            }
        };
        page.Response += (_, response) =>
        {
            if (response.Status == 403 && response.Request.IsNavigationRequest)
            {
                LogNavigationForbidden(_logger, session.SessionId, session.RunId, Shorten(response.Url));
            }
        };
        if (session.Page is not null)
        {
            // A pop-up or new tab: the agent goes on there, as a person would.
            session.Page = page;
            session.Read = false;
        }
    }

    private async Task<IBrowser> BrowserAsync()
    {
        if (_browser?.IsConnected == true)
        {
            return _browser;
        }

        if (_browser is not null)
        {
            // Crashed: every context died with it.
            foreach (var session in _sessions.Values)
            {
                _proxy?.Revoke(session.ProxyClient);
            }

            _sessions.Clear();
            _browser = null;
        }

        if (_proxy is null)
        {
            _proxy = new EgressProxy(policy, AllowList, maxConnections: 64 * _options.MaxContexts, loggers.CreateLogger<EgressProxy>(), DenyList);
            _proxy.Start();
        }

        _chromium ??= SandboxedChromium.Prepare(_options);
        _playwright ??= await Playwright.CreateAsync();
        try
        {
            _browser = await _playwright.Chromium.LaunchAsync(_chromium.LaunchOptions(_proxy.Address));
        }
        catch (PlaywrightException e)
        {
            throw new BrowserUnavailableException($"Chromium did not start ({FirstLine(e.Message)}). An admin can check {BrowserOptions.Section} and the Host's log.", e);
        }

        var launched = _browser;
        launched.Disconnected += (_, _) =>
        {
            if (Volatile.Read(ref _disposed) == 0)
            {
                LogDisconnected(_logger);
            }
        };
        Interlocked.Increment(ref _launches);
        LogLaunched(_logger, _launches, _chromium.User ?? "the Host's own user", _proxy.Address);
        return launched;
    }

    /// <summary>The process ids of this node's Chromium (as root, found by the home folder the wrapper gives it); for crash tests.</summary>
    internal IReadOnlyList<int> ChromiumProcessIds() => _chromium?.ProcessIds() ?? [];

    internal static string Shorten(string url) => url.Length <= 300 ? url : url[..300] + "…";

    private static string FirstLine(string text) => text.Split('\n', 2)[0].Trim();

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        if (_browser is not null)
        {
            try
            {
                await _browser.CloseAsync();
            }
            catch (PlaywrightException)
            {
            }
        }

        _playwright?.Dispose();
        if (_proxy is not null)
        {
            await _proxy.DisposeAsync();
        }

        _chromium?.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Browser started (launch {Launch}) as {User}, through the egress proxy {Proxy}")]
    private static partial void LogLaunched(ILogger logger, int launch, string user, Uri proxy);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Browser disconnected (crashed or killed); the next call starts a new one")]
    private static partial void LogDisconnected(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Browser context opened for session {SessionId}")]
    private static partial void LogOpened(ILogger logger, Guid sessionId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Browser context of session {SessionId} closed")]
    private static partial void LogClosed(ILogger logger, Guid sessionId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Browser: session {SessionId}, run {RunId} navigated to {Url}")]
    private static partial void LogNavigated(ILogger logger, Guid sessionId, Guid runId, string url);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Browser: session {SessionId}, run {RunId}: navigation to {Url} failed: {Failure}")]
    private static partial void LogNavigationFailed(ILogger logger, Guid sessionId, Guid runId, string url, string failure);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Browser: session {SessionId}, run {RunId}: navigation to {Url} answered 403 (the egress proxy refuses with 403)")]
    private static partial void LogNavigationForbidden(ILogger logger, Guid sessionId, Guid runId, string url);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Browser: session {SessionId}, run {RunId}: a page beyond the cap of {Max} was closed")]
    private static partial void LogPageCapped(ILogger logger, Guid sessionId, Guid runId, int max);
}

/// <summary>The browser crashed (or was killed) during the call; it is restarted on the next call.</summary>
internal sealed class BrowserCrashedException(Exception inner)
    : Exception("The browser crashed during this call and was restarted; the session's pages and cookies are gone. Open the page again with open_url.", inner);

/// <summary>Too many sessions browse at once on this node.</summary>
internal sealed class BrowserBusyException(string message) : Exception(message);
