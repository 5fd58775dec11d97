namespace Conclave.Web.Contracts;

/// <summary>Where <c>web_search</c> asks (<c>Conclave:WebSearch:Backend</c>).</summary>
public enum WebSearchBackend
{
    /// <summary><c>web_search</c> is not offered.</summary>
    None,

    /// <summary>A self-hosted SearXNG's JSON API.</summary>
    SearXNG,

    /// <summary>The Brave Search API (a key is needed).</summary>
    Brave,
}
