using System.Net;
using System.Net.Http.Json;
using Conclave.Sessions.Contracts;
using Conclave.Testing;
using Conclave.Testing.Host;

namespace Conclave.Host.Tests.Api;

public sealed class MessageFlowTests(ConclaveApp app) : IClassFixture<ConclaveApp>
{
    [Fact]
    public async Task Posting_a_message_returns_at_once_and_the_assistant_answer_is_appended_with_its_usage()
    {
        var session = await app.CreateSessionAsync();
        app.Provider.Enqueue(Reply.Text("| a | b |\n|---|---|\n| 1 | 2 |").InChunks(6).WithUsage(21, 9));

        var response = await app.Client.PostAsJsonAsync($"/api/v1/sessions/{session.Id}/messages", new { text = "Make a table" });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.NotNull(response.Headers.Location);
        var posted = (await response.Content.ReadFromJsonAsync<PostedMessage>(Json.Options))!;
        await app.WaitForRunEndAsync(session.Id, posted.RunId);

        var events = await app.EventsAsync(session.Id);
        Assert.Equal(
            ["SessionStarted", "UserMessagePosted", "RunQueued", "RunStarted", "AgentMessageCompleted", "RunCompleted"],
            events.Select(e => e.Type));
        Assert.Equal(Enumerable.Range(1, events.Count).Select(v => (long)v), events.Select(e => e.Version));
        var answer = Assert.IsType<AgentMessageCompleted>(events[4].Data);
        Assert.Equal("| a | b |\n|---|---|\n| 1 | 2 |", answer.Text);
        Assert.Equal(new Conclave.Sessions.Contracts.TokenUsage(21, 9), answer.Usage);
        Assert.Equal("Assistant", answer.Agent);
    }

    [Fact]
    public async Task The_provider_receives_the_whole_conversation_streamed_with_the_configured_key()
    {
        var session = await app.CreateSessionAsync();
        app.Provider.Enqueue(Reply.Text("First answer"), Reply.Text("Second answer"));
        var first = await app.PostMessageAsync(session.Id, "First question");
        await app.WaitForRunEndAsync(session.Id, first.RunId);
        var before = app.Provider.Requests.Count;

        var second = await app.PostMessageAsync(session.Id, "Second question");
        await app.WaitForRunEndAsync(session.Id, second.RunId);

        var request = app.Provider.Requests[before];
        Assert.True(request.Stream);
        Assert.Equal("scripted-model", request.Model);
        Assert.Equal($"Bearer {ConclaveApp.ProviderKey}", request.Authorization);
        Assert.Equal(
            ["system", "user", "assistant", "user"],
            request.Messages.Select(m => m.Role));
        Assert.Equal("Second question", request.LastMessage!.Content);
    }

    [Fact]
    public async Task The_session_summary_counts_messages_tokens_and_the_last_run_status()
    {
        var session = await app.CreateSessionAsync();
        app.Provider.Enqueue(Reply.Text("ok").WithUsage(10, 2));
        var posted = await app.PostMessageAsync(session.Id, "count me");
        await app.WaitForRunEndAsync(session.Id, posted.RunId);

        var summary = await app.Client.GetFromJsonAsync<SessionSummary>($"/api/v1/sessions/{session.Id}", Json.Options);

        Assert.Equal(2, summary!.MessageCount);
        Assert.Equal(1, summary.RunCount);
        Assert.Equal(RunStatus.Completed, summary.LastRunStatus);
        Assert.Equal(10, summary.PromptTokens);
        Assert.Equal(2, summary.CompletionTokens);
    }

    [Fact]
    public async Task The_event_feed_pages_after_a_version()
    {
        var session = await app.CreateSessionAsync();
        app.Provider.Enqueue(Reply.Text("paged"));
        var posted = await app.PostMessageAsync(session.Id, "page me");
        await app.WaitForRunEndAsync(session.Id, posted.RunId);

        var page = await app.Client.GetFromJsonAsync<EventPageDto>($"/api/v1/sessions/{session.Id}/events?after=2&limit=2", Json.Options);

        Assert.Equal([3L, 4L], page!.Events.Select(e => e.Version));
        Assert.Equal(["RunQueued", "RunStarted"], page.Events.Select(e => e.Type));
        Assert.Equal(4, page.LastVersion);
        Assert.True(page.HasMore);
    }

    private sealed record EventDto(long Version, string Type);

    private sealed record EventPageDto(List<EventDto> Events, long LastVersion, bool HasMore);
}
