using System.Net;
using System.Net.Http.Json;
using Conclave.Sessions.Contracts;
using Conclave.Testing.Host;

namespace Conclave.Host.Tests.Api;

[Collection(SharedHost.Name)]
public sealed class SessionLifecycleTests(ConclaveApp app)
{
    [Fact]
    public async Task A_created_session_is_listed_renamed_and_deleted()
    {
        var created = await app.CreateSessionAsync("Quarterly report");
        Assert.Equal("Quarterly report", created.Title);
        Assert.Equal("local", created.OwnerId);

        var listed = await app.Client.GetFromJsonAsync<List<SessionSummary>>("/api/v1/sessions", Json.Options);
        Assert.Contains(listed!, s => s.Id == created.Id);

        var renamed = await app.Client.PatchAsJsonAsync($"/api/v1/sessions/{created.Id}", new { title = "Q3 report" });
        Assert.Equal(HttpStatusCode.OK, renamed.StatusCode);
        var fetched = await app.Client.GetFromJsonAsync<SessionSummary>($"/api/v1/sessions/{created.Id}", Json.Options);
        Assert.Equal("Q3 report", fetched!.Title);

        var deleted = await app.Client.DeleteAsync($"/api/v1/sessions/{created.Id}");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client.GetAsync($"/api/v1/sessions/{created.Id}")).StatusCode);
        var after = await app.Client.GetFromJsonAsync<List<SessionSummary>>("/api/v1/sessions", Json.Options);
        Assert.DoesNotContain(after!, s => s.Id == created.Id);
    }

    [Fact]
    public async Task A_session_without_a_title_gets_a_default_one()
    {
        var created = await app.CreateSessionAsync();

        Assert.Equal("New session", created.Title);
    }

    [Fact]
    public async Task A_deleted_session_keeps_its_log_but_refuses_messages()
    {
        var session = await app.CreateSessionAsync();
        await app.Client.DeleteAsync($"/api/v1/sessions/{session.Id}");

        var post = await app.Client.PostAsJsonAsync($"/api/v1/sessions/{session.Id}/messages", new { text = "hello?" });

        Assert.Equal(HttpStatusCode.NotFound, post.StatusCode);
        var events = await app.EventsAsync(session.Id);
        Assert.Equal(["SessionStarted", "SessionDeleted"], events.Select(e => e.Type));
    }
}
