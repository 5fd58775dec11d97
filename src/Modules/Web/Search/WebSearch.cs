using System.Net.Http.Json;
using System.Text.Json;
using Conclave.Egress;
using Conclave.Web.Contracts;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Conclave.Web.Search;

/// <summary>One result of a search: what a person sees on a results page.</summary>
internal sealed record SearchResult(string Title, string Url, string Snippet);

/// <summary>
/// Asks the configured backend. Its HTTP goes through the egress policy (<see cref="EgressPolicy.CreateHandler"/>):
/// the configured backend's own endpoint is trusted (an admin chose it, e.g. a SearXNG on the local network),
/// nothing else the policy denies, and no redirect is followed.
/// </summary>
internal sealed partial class WebSearch(IHttpClientFactory clients, IOptions<WebSearchOptions> options, ILogger<WebSearch> logger)
{
    public const string HttpClientName = "web-search";

    /// <summary>Response bodies beyond this are not read (a results page is a few kB).</summary>
    private const int MaxResponseBytes = 2 * 1024 * 1024;

    private readonly WebSearchOptions _options = options.Value;

    public WebSearchBackend Backend => _options.Backend;

    /// <summary>What the admin page says: the backend and where it is (never the key).</summary>
    public string Describe() => _options.Backend switch
    {
        WebSearchBackend.SearXNG => $"SearXNG at {_options.SearxngUrl}",
        WebSearchBackend.Brave => $"Brave Search API ({_options.BraveUrl.Host})",
        _ => "none (web_search is not offered)",
    };

    /// <summary>The endpoint trusted by the egress policy for search calls: the configured backend's.</summary>
    public static IReadOnlyList<EgressRule> Trusted(WebSearchOptions options) => options.Backend switch
    {
        WebSearchBackend.SearXNG when options.SearxngUrl is { } url => [EgressRule.ForEndpoint(url)],
        WebSearchBackend.Brave => [EgressRule.ForEndpoint(options.BraveUrl)],
        _ => [],
    };

    /// <exception cref="SearchFailedException">The backend could not be reached or answered something unusable.</exception>
    public async Task<IReadOnlyList<SearchResult>> SearchAsync(string query, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_options.Timeout);
        try
        {
            return _options.Backend switch
            {
                WebSearchBackend.SearXNG => await SearxngAsync(query, deadline.Token),
                WebSearchBackend.Brave => await BraveAsync(query, deadline.Token),
                _ => throw new SearchFailedException("No search backend is configured; an admin can set one in Conclave:WebSearch."),
            };
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new SearchFailedException($"The search backend did not answer within {_options.Timeout.TotalSeconds:0} s.");
        }
        catch (HttpRequestException e)
        {
            LogFailed(logger, _options.Backend, e.Message);
            throw new SearchFailedException(e.InnerException is EgressRefusedException refused
                ? $"The search backend is refused by the egress policy ({refused.Message})."
                : "The search backend is unreachable.");
        }
        catch (JsonException)
        {
            throw new SearchFailedException("The search backend answered something that is not its JSON format.");
        }
    }

    private async Task<IReadOnlyList<SearchResult>> SearxngAsync(string query, CancellationToken cancellationToken)
    {
        var url = new Uri(_options.SearxngUrl!, $"search?q={Uri.EscapeDataString(query)}&format=json");
        using var document = await GetJsonAsync(new HttpRequestMessage(HttpMethod.Get, url), cancellationToken);
        return [.. Results(document.RootElement, "results", "content")];
    }

    private async Task<IReadOnlyList<SearchResult>> BraveAsync(string query, CancellationToken cancellationToken)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"{_options.BraveUrl}?q={Uri.EscapeDataString(query)}&count={_options.MaxResults}"));
        request.Headers.Add("X-Subscription-Token", _options.BraveApiKey);
        request.Headers.Accept.ParseAdd("application/json");
        using var document = await GetJsonAsync(request, cancellationToken);
        return document.RootElement.TryGetProperty("web", out var web) ? [.. Results(web, "results", "description")] : [];
    }

    private IEnumerable<SearchResult> Results(JsonElement parent, string array, string snippet)
    {
        if (!parent.TryGetProperty(array, out var results) || results.ValueKind != JsonValueKind.Array)
        {
            yield break;
        }

        foreach (var result in results.EnumerateArray().Take(_options.MaxResults))
        {
            var url = Text(result, "url");
            if (Uri.TryCreate(url, UriKind.Absolute, out var parsed) && parsed.Scheme is "http" or "https")
            {
                yield return new SearchResult(Cut(Text(result, "title"), 300), Cut(url, 2_000), Cut(Text(result, snippet), 1_000));
            }
        }
    }

    private async Task<JsonDocument> GetJsonAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using (request)
        {
            var http = clients.CreateClient(HttpClientName);
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                LogFailed(logger, _options.Backend, $"HTTP {(int)response.StatusCode}");
                throw new SearchFailedException($"The search backend answered HTTP {(int)response.StatusCode}.");
            }

            if (response.Content.Headers.ContentLength > MaxResponseBytes)
            {
                throw new SearchFailedException("The search backend's answer is too large.");
            }

            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            var buffer = new MemoryStream();
            var chunk = new byte[16 * 1024];
            int read;
            while ((read = await body.ReadAsync(chunk, cancellationToken)) > 0)
            {
                if (buffer.Length + read > MaxResponseBytes)
                {
                    throw new SearchFailedException("The search backend's answer is too large.");
                }

                buffer.Write(chunk, 0, read);
            }

            buffer.Position = 0;
            return await JsonDocument.ParseAsync(buffer, cancellationToken: cancellationToken);
        }
    }

    private static string Text(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() ?? "" : "";

    private static string Cut(string text, int max) => text.Length <= max ? text : text[..max] + "…";

    [LoggerMessage(Level = LogLevel.Warning, Message = "Web search ({Backend}) failed: {Reason}")]
    private static partial void LogFailed(ILogger logger, WebSearchBackend backend, string reason);
}

/// <summary>A search that could not be done; the message is for the agent.</summary>
internal sealed class SearchFailedException(string message) : Exception(message);
