using Conclave.Egress;
using Microsoft.Playwright;

namespace Conclave.Web.Browsing;

/// <summary>
/// One session's browsing: its own browser context (cookies and storage no other session sees), the page
/// the agent is on, and the proxy credentials all of its traffic carries. One call at a time.
/// </summary>
internal sealed class SessionBrowser(Guid sessionId, IBrowserContext context, ProxyClient proxyClient, DateTimeOffset now)
{
    public Guid SessionId { get; } = sessionId;

    public IBrowserContext Context { get; } = context;

    /// <summary>The credentials of its traffic, tagged with the session and the run of the call under way.</summary>
    public ProxyClient ProxyClient { get; set; } = proxyClient;

    public SemaphoreSlim Gate { get; } = new(1, 1);

    /// <summary>The page the tools act on: the first, or the latest pop-up within the cap.</summary>
    public IPage? Page { get; set; }

    /// <summary>The run whose call is under way, for the navigation log.</summary>
    public Guid RunId { get; set; }

    public DateTimeOffset LastUsed { get; set; } = now;

    /// <summary>A <c>read_page</c> was taken on the current page: its refs can be used.</summary>
    public bool Read { get; set; }

    /// <summary>Screenshots taken in this context, to name the next one.</summary>
    public int Screenshots { get; set; }
}
