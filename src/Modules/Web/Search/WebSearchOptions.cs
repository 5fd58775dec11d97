using System.ComponentModel.DataAnnotations;
using Conclave.Web.Contracts;
using Microsoft.Extensions.Options;

namespace Conclave.Web.Search;

/// <summary>Where <c>web_search</c> asks (<c>Conclave:WebSearch</c>).</summary>
public sealed class WebSearchOptions
{
    public const string Section = "Conclave:WebSearch";

    public WebSearchBackend Backend { get; set; } = WebSearchBackend.None;

    /// <summary>A SearXNG instance with the JSON format enabled (<c>search.formats: [html, json]</c>), e.g. http://searxng:8080/.</summary>
    public Uri? SearxngUrl { get; set; }

    /// <summary>
    /// The Brave Search API key. Keep it out of appsettings: user secrets, an environment variable
    /// (<c>Conclave__WebSearch__BraveApiKey</c>) or the deployment's secret store. Never logged or shown.
    /// </summary>
    public string? BraveApiKey { get; set; }

    /// <summary>Brave's endpoint (a test points it at a local server).</summary>
    public Uri BraveUrl { get; set; } = new("https://api.search.brave.com/res/v1/web/search");

    [Range(1, 20)]
    public int MaxResults { get; set; } = 8;

    [Range(typeof(TimeSpan), "00:00:01", "00:01:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(15);
}

internal sealed class WebSearchOptionsValidator : IValidateOptions<WebSearchOptions>
{
    public ValidateOptionsResult Validate(string? name, WebSearchOptions options) => options.Backend switch
    {
        WebSearchBackend.SearXNG when options.SearxngUrl is not { IsAbsoluteUri: true } url || url.Scheme is not ("http" or "https") =>
            ValidateOptionsResult.Fail($"{WebSearchOptions.Section}:SearxngUrl must be the http(s) address of a SearXNG instance when Backend is SearXNG."),
        WebSearchBackend.Brave when string.IsNullOrWhiteSpace(options.BraveApiKey) =>
            ValidateOptionsResult.Fail($"{WebSearchOptions.Section}:BraveApiKey is needed when Backend is Brave; set it as a secret (e.g. the environment variable Conclave__WebSearch__BraveApiKey)."),
        _ when !Enum.IsDefined(options.Backend) =>
            ValidateOptionsResult.Fail($"{WebSearchOptions.Section}:Backend must be one of {string.Join(", ", Enum.GetNames<WebSearchBackend>())}."),
        _ => ValidateOptionsResult.Success,
    };
}
