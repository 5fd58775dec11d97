using Conclave.Testing;
using Conclave.Web.Contracts;
using Conclave.Web.Search;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Conclave.Host.Tests.Web;

/// <summary>
/// The search backends through the Host's own HTTP client for search (the egress policy, the configured
/// backend's endpoint trusted): Brave's format with its key, and a backend address the policy refuses.
/// </summary>
[Collection(WebApp.Collection)]
public sealed class SearchBackendTests(WebApp app)
{
    [Fact]
    public async Task Brave_s_format_is_read_with_the_key_sent_and_kept_out_of_the_description()
    {
        // The Brave-compatible endpoint is on the configured backend's host and port, so the policy trusts it.
        var search = Search(new WebSearchOptions { Backend = WebSearchBackend.Brave, BraveApiKey = TestSite.BraveKey, BraveUrl = app.Site.Url("brave/res/v1/web/search") });

        var results = await search.SearchAsync("oracle", CancellationToken.None);

        var result = Assert.Single(results);
        Assert.Equal(("The oracle's question form", app.Site.Url("form").ToString()), (result.Title, result.Url));
        Assert.Contains("oracle", app.Site.Searches);
        Assert.DoesNotContain(TestSite.BraveKey, search.Describe(), StringComparison.Ordinal);
        Assert.DoesNotContain(app.Logs.Lines, l => l.Contains(TestSite.BraveKey, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_backend_the_egress_policy_refuses_is_never_connected_to()
    {
        var search = Search(new WebSearchOptions { Backend = WebSearchBackend.SearXNG, SearxngUrl = new Uri($"http://127.0.0.1:{app.Canary.Port}/") });

        var failure = await Assert.ThrowsAnyAsync<Exception>(() => search.SearchAsync("anything", CancellationToken.None));

        Assert.Contains("refused by the egress policy", failure.Message, StringComparison.Ordinal);
        Assert.Equal(0, await app.Canary.SettledConnectionsAsync(TimeSpan.FromSeconds(10)));
    }

    private WebSearch Search(WebSearchOptions options) =>
        new(app.Service<IHttpClientFactory>(), Options.Create(options), app.Service<ILogger<WebSearch>>());
}
