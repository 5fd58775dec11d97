using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Conclave.Sessions.Contracts;
using Conclave.Testing;
using Conclave.Testing.Host;

namespace Conclave.Deployment.Tests.Fixtures;

/// <summary>
/// A user in a browser on the machine Conclave runs on: it registers and signs in through the forms and
/// calls the API with the sign-in cookie and the page's antiforgery token. Some cookies stay Secure
/// over plain HTTP (the known-browser mark); browsers keep and send them to http://localhost anyway (a
/// secure context), and so does this client (HttpClient's cookie container would not).
/// </summary>
public sealed class BrowserUser : IDisposable
{
    private readonly LocalhostCookies _cookies;
    private HttpClient _http;
    private string? _antiforgery;

    public BrowserUser(Uri baseAddress)
    {
        _cookies = new LocalhostCookies { InnerHandler = new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false } };
        _http = Client(baseAddress);
    }

    /// <summary>Points the browser, with its cookies, at another address (the same installation restored elsewhere).</summary>
    public void UseAddress(Uri baseAddress)
    {
        _http.Dispose();
        _http = Client(baseAddress);
        _antiforgery = null;
    }

    private HttpClient Client(Uri baseAddress) =>
        new(_cookies, disposeHandler: false) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };

    /// <summary>Registers through the form (the first account becomes admin); the browser is signed in after it.</summary>
    public async Task RegisterAsync(string userName)
    {
        var response = await OidcFlow.PostFormAsync(_http, "/register", "register", new()
        {
            ["Input.UserName"] = userName,
            ["Input.Password"] = ConclaveApp.Password,
            ["Input.ConfirmPassword"] = ConclaveApp.Password,
        });
        if (response.StatusCode != HttpStatusCode.Redirect)
        {
            throw new InvalidOperationException($"Registering {userName} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
    }

    public async Task<SessionSummary> CreateSessionAsync(string title)
    {
        using var response = await SendAsync(HttpMethod.Post, "/api/v1/sessions", JsonContent.Create(new { title }));
        await Expect(response, HttpStatusCode.Created);
        return (await response.Content.ReadFromJsonAsync<SessionSummary>(Json.Options))!;
    }

    public async Task<PostedMessage> PostMessageAsync(Guid sessionId, string text)
    {
        using var response = await SendAsync(HttpMethod.Post, $"/api/v1/sessions/{sessionId}/messages", JsonContent.Create(new { text }));
        await Expect(response, HttpStatusCode.Accepted);
        return (await response.Content.ReadFromJsonAsync<PostedMessage>(Json.Options))!;
    }

    /// <summary>The session's events (type and data), read through the API.</summary>
    public async Task<List<(string Type, JsonElement Data)>> EventsAsync(Guid sessionId)
    {
        using var response = await SendAsync(HttpMethod.Get, $"/api/v1/sessions/{sessionId}/events?after=0&limit=1000");
        await Expect(response, HttpStatusCode.OK);
        using var page = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return page.RootElement.GetProperty("events").EnumerateArray()
            .Select(e => (e.GetProperty("type").GetString()!, e.GetProperty("data").Clone()))
            .ToList();
    }

    /// <summary>Waits for the run to end and returns the type of its last event (RunCompleted, RunFailed, ...).</summary>
    public async Task<string> WaitForRunEndAsync(Guid sessionId, Guid runId, TimeSpan timeout)
    {
        string? end = null;
        await Eventually.Until(async () =>
        {
            end = (await EventsAsync(sessionId))
                .Where(e => e.Type is "RunCompleted" or "RunFailed" or "RunCancelled"
                    && e.Data.TryGetProperty("runId", out var id) && id.GetGuid() == runId)
                .Select(e => e.Type)
                .FirstOrDefault();
            return end is not null;
        }, timeout, $"run {runId} of session {sessionId} ends");
        return end!;
    }

    public async Task<string> DownloadAsync(Guid sessionId, string path)
    {
        using var response = await SendAsync(HttpMethod.Get, $"/api/v1/sessions/{sessionId}/files/{path}");
        await Expect(response, HttpStatusCode.OK);
        return await response.Content.ReadAsStringAsync();
    }

    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, HttpContent? content = null)
    {
        _antiforgery ??= OidcFlow.AntiforgeryToken(await _http.GetStringAsync("/"));
        using var request = new HttpRequestMessage(method, path) { Content = content };
        request.Headers.Add("RequestVerificationToken", _antiforgery);
        return await _http.SendAsync(request);
    }

    private static async Task Expect(HttpResponseMessage response, HttpStatusCode status)
    {
        if (response.StatusCode != status)
        {
            throw new InvalidOperationException(
                $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri} answered {(int)response.StatusCode}, not {(int)status}: {await response.Content.ReadAsStringAsync()}");
        }
    }

    public void Dispose()
    {
        _http.Dispose();
        _cookies.Dispose();
    }

    /// <summary>A browser's cookie jar for one localhost origin: Secure cookies included.</summary>
    private sealed class LocalhostCookies : DelegatingHandler
    {
        public Dictionary<string, string> Jar { get; } = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (Jar.Count > 0)
            {
                request.Headers.Add("Cookie", string.Join("; ", Jar.Select(c => $"{c.Key}={c.Value}")));
            }
            var response = await base.SendAsync(request, cancellationToken);
            foreach (var header in response.Headers.TryGetValues("Set-Cookie", out var values) ? values : [])
            {
                var pair = header.Split(';')[0].Split('=', 2);
                var expired = header.Contains("expires=Thu, 01 Jan 1970", StringComparison.OrdinalIgnoreCase);
                if (pair.Length == 2 && !expired && pair[1].Length > 0)
                {
                    Jar[pair[0].Trim()] = pair[1];
                }
                else
                {
                    Jar.Remove(pair[0].Trim());
                }
            }
            return response;
        }
    }
}
