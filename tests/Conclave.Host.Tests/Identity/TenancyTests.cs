using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Conclave.Testing.Host;

namespace Conclave.Host.Tests.Identity;

/// <summary>A token of one user reaches nothing of another user's: every endpoint answers 404 and reveals nothing.</summary>
[Collection(SharedHost.Name)]
public sealed class TenancyTests(ConclaveApp app)
{
    [Fact]
    public async Task A_token_of_one_user_cannot_read_or_change_another_users_session_events_stream_or_files()
    {
        using var alice = await app.CreateUserClientAsync("alice");
        using var bob = await app.CreateUserClientAsync("bob");
        var created = await alice.PostAsJsonAsync("/api/v1/sessions", new { title = "Alice's secrets" });
        var session = (await created.Content.ReadFromJsonAsync<Conclave.Sessions.Contracts.SessionSummary>(Json.Options))!;
        using var upload = new MultipartFormDataContent { { new ByteArrayContent("secret"u8.ToArray()), "files", "secret.txt" } };
        Assert.Equal(HttpStatusCode.Created, (await alice.PostAsync($"/api/v1/sessions/{session.Id}/files", upload)).StatusCode);
        var id = session.Id;

        var attempts = new (HttpMethod Method, string Path, HttpContent? Body)[]
        {
            (HttpMethod.Get, $"/api/v1/sessions/{id}", null),
            (HttpMethod.Patch, $"/api/v1/sessions/{id}", JsonContent.Create(new { title = "mine" })),
            (HttpMethod.Delete, $"/api/v1/sessions/{id}", null),
            (HttpMethod.Post, $"/api/v1/sessions/{id}/messages", JsonContent.Create(new { text = "hi" })),
            (HttpMethod.Get, $"/api/v1/sessions/{id}/events", null),
            (HttpMethod.Get, $"/api/v1/sessions/{id}/stream", null),
            (HttpMethod.Post, $"/api/v1/sessions/{id}/runs/{Guid.NewGuid()}/cancel", null),
            (HttpMethod.Get, $"/api/v1/sessions/{id}/files", null),
            (HttpMethod.Post, $"/api/v1/sessions/{id}/files", new MultipartFormDataContent { { new ByteArrayContent("x"u8.ToArray()), "files", "x.txt" } }),
            (HttpMethod.Get, $"/api/v1/sessions/{id}/files/secret.txt", null),
            (HttpMethod.Delete, $"/api/v1/sessions/{id}/files/secret.txt", null),
        };
        foreach (var (method, path, body) in attempts)
        {
            using var request = new HttpRequestMessage(method, path) { Content = body };
            using var response = await bob.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{method} {path} answered {(int)response.StatusCode} to another user.");
            Assert.DoesNotContain("secret", await response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
        }

        Assert.DoesNotContain(id.ToString(), await bob.GetStringAsync("/api/v1/sessions"));
        Assert.Equal("secret", await alice.GetStringAsync($"/api/v1/sessions/{id}/files/secret.txt"));
        Assert.Equal(HttpStatusCode.OK, (await alice.GetAsync($"/api/v1/sessions/{id}")).StatusCode);
    }
}
