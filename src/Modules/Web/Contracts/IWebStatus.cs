namespace Conclave.Web.Contracts;

/// <summary>What the admin page shows about web browsing on this node.</summary>
public interface IWebStatus
{
    WebStatus Current { get; }
}

/// <param name="SearchBackend">The active search backend and where it is ("SearXNG at http://…", "none …"); never a key.</param>
/// <param name="OpenContexts">Sessions with an open browser context on this node.</param>
/// <param name="SandboxUser">The user Chromium runs as, once started; null before, or when the Host is not root.</param>
/// <param name="Proxy">The egress proxy the browser goes through, once started.</param>
public sealed record WebStatus(string SearchBackend, int OpenContexts, int MaxContexts, string? SandboxUser, Uri? Proxy, IReadOnlyList<string> BrowserAllowList, IReadOnlyList<string> BrowserDenyList);
