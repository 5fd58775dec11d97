using System.Net;
using System.Net.Http.Json;
using Conclave.Agents.Runs;
using Conclave.Sessions.Contracts;
using Conclave.Testing;
using Conclave.Testing.Host;

namespace Conclave.Host.Tests.Agents;

/// <summary>The user is always in control: pause at the next step, resume from the log, edit the last message and re-run.</summary>
public sealed class RunControlTests(ConclaveApp app) : IClassFixture<ConclaveApp>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Pause_stops_at_the_next_step_boundary_and_resume_continues_from_the_log()
    {
        var session = await app.CreateSessionAsync();
        var gate = new ChunkGate();
        var first = app.Provider.Requests.Count;
        app.Provider.Enqueue(Reply.ToolCall("list_files", "{}").Gated(gate));
        var posted = await app.PostMessageAsync(session.Id, "Which files do I have?");
        await app.Provider.WaitForRequestAsync(first, Deadline);

        var pause = await app.Client.PostAsync(Run(session.Id, posted.RunId, "pause"), null);
        Assert.Equal(HttpStatusCode.Accepted, pause.StatusCode);
        await app.WaitForEventAsync<RunPauseRequested>(session.Id, timeout: Deadline);
        var again = await app.Client.PostAsync(Run(session.Id, posted.RunId, "pause"), null);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        gate.Release(100); // the step under way finishes...
        await app.WaitForEventAsync<RunPaused>(session.Id, p => p.RunId == posted.RunId, Deadline);

        // ...and nothing after it happens: once the execution has returned, the tool call waits and
        // the model is not asked again.
        await Eventually.Until(() => !app.Service<ActiveRuns>().IsExecuting(posted.RunId), Deadline, "the paused run's execution returned");
        var paused = await app.EventsAsync(session.Id);
        Assert.Equal("RunPaused", paused[^1].Type);
        Assert.Contains(paused, e => e.Data is ToolCallRequested);
        Assert.DoesNotContain(paused, e => e.Data is ToolCallCompleted);
        Assert.Equal(1, app.Provider.Requests.Count - first);
        Assert.Equal(RunStatus.Paused, (await SummaryAsync(session.Id)).LastRunStatus);

        app.Provider.Enqueue(Reply.Text("Your workspace is empty."));
        var resume = await app.Client.PostAsync(Run(session.Id, posted.RunId, "resume"), null);
        Assert.Equal(HttpStatusCode.Accepted, resume.StatusCode);
        var end = await app.WaitForRunEndAsync(session.Id, posted.RunId, Deadline);

        Assert.IsType<RunCompleted>(end.Data);
        var events = await app.EventsAsync(session.Id);
        Assert.Single(events, e => e.Data is ToolCallCompleted);
        Assert.Single(events, e => e.Data is RunResumed);
        Assert.Equal(2, events.Count(e => e.Data is AgentMessageCompleted));
        Assert.Equal(2, app.Provider.Requests.Count - first);
        var resumeAgain = await app.Client.PostAsync(Run(session.Id, posted.RunId, "resume"), null);
        Assert.Equal(HttpStatusCode.Conflict, resumeAgain.StatusCode);
    }

    [Fact]
    public async Task Resuming_a_run_that_is_not_paused_is_a_conflict_and_appends_nothing()
    {
        var session = await app.CreateSessionAsync();
        app.Provider.Enqueue(Reply.Text("done"));
        var posted = await app.PostMessageAsync(session.Id, "quick");
        await app.WaitForRunEndAsync(session.Id, posted.RunId, Deadline);
        var before = (await app.EventsAsync(session.Id)).Count;

        var resume = await app.Client.PostAsync(Run(session.Id, posted.RunId, "resume"), null);
        var pause = await app.Client.PostAsync(Run(session.Id, posted.RunId, "pause"), null);

        Assert.Equal(HttpStatusCode.Conflict, resume.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, pause.StatusCode);
        Assert.Equal(before, (await app.EventsAsync(session.Id)).Count);
    }

    [Fact]
    public async Task Editing_the_last_message_supersedes_what_followed_and_reruns_on_the_edited_history()
    {
        var session = await app.CreateSessionAsync();
        var first = app.Provider.Requests.Count;
        app.Provider.Enqueue(Reply.Text("Paris is the capital of Frence."));
        var posted = await app.PostMessageAsync(session.Id, "Capital of Frence?");
        await app.WaitForRunEndAsync(session.Id, posted.RunId, Deadline);

        app.Provider.Enqueue(Reply.Text("Paris."));
        var response = await app.Client.PutAsJsonAsync($"/api/v1/sessions/{session.Id}/messages/{posted.MessageId}", new { text = "Capital of France?" });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var edited = (await response.Content.ReadFromJsonAsync<PostedMessage>(Json.Options))!;
        var end = await app.WaitForRunEndAsync(session.Id, edited.RunId, Deadline);

        Assert.IsType<RunCompleted>(end.Data);
        var rerun = app.Provider.Requests[first + 1];
        var conversation = rerun.Messages.Where(m => m.Role != "system").Select(m => m.Content).ToList();
        Assert.Equal(["Capital of France?"], conversation);
        var events = await app.EventsAsync(session.Id);
        var superseded = Conversation.SupersededVersions(events);
        var old = events.Where(e => superseded.Contains(e.Version)).Select(e => e.Type).ToList();
        Assert.Contains("UserMessagePosted", old);
        Assert.Contains("AgentMessageCompleted", old);
        Assert.DoesNotContain(events.Where(e => !superseded.Contains(e.Version)), e => e.Data is UserMessagePosted);
        Assert.Equal("Capital of France?", Conversation.LastUserMessage(events)!.Text);

        // Only the last message can be edited: the old one is gone from the conversation.
        var stale = await app.Client.PutAsJsonAsync($"/api/v1/sessions/{session.Id}/messages/{posted.MessageId}", new { text = "again" });
        Assert.Equal(HttpStatusCode.BadRequest, stale.StatusCode);
        var empty = await app.Client.PutAsJsonAsync($"/api/v1/sessions/{session.Id}/messages/{edited.MessageId}", new { text = " " });
        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
        Assert.Equal(events.Count, (await app.EventsAsync(session.Id)).Count);
    }

    [Fact]
    public async Task Editing_while_the_run_is_still_streaming_cancels_it_and_its_answer_never_lands()
    {
        var session = await app.CreateSessionAsync();
        var first = app.Provider.Requests.Count;
        app.Provider.Enqueue(Reply.Chunks("Thinking ", "about ", "the typo").StallAfter(1));
        var posted = await app.PostMessageAsync(session.Id, "Waht is 2+2?");
        var streaming = await app.Provider.WaitForRequestAsync(first, Deadline);
        await streaming.WaitForChunkSentAsync(0, Deadline);

        app.Provider.Enqueue(Reply.Text("4"));
        var response = await app.Client.PutAsJsonAsync($"/api/v1/sessions/{session.Id}/messages/{posted.MessageId}", new { text = "What is 2+2?" });
        var edited = (await response.Content.ReadFromJsonAsync<PostedMessage>(Json.Options))!;
        await app.WaitForRunEndAsync(session.Id, edited.RunId, Deadline);
        await streaming.WaitForDisconnectAsync(Deadline);

        var events = await app.EventsAsync(session.Id);
        var cancelled = Assert.Single(events.Select(e => e.Data).OfType<RunCancelled>());
        Assert.Equal(posted.RunId, cancelled.RunId);
        Assert.Equal(RunReasons.SupersededByEdit, cancelled.Reason);
        var answer = Assert.Single(events.Select(e => e.Data).OfType<AgentMessageCompleted>());
        Assert.Equal(edited.RunId, answer.RunId);
        Assert.Equal("4", answer.Text);
    }

    [Fact]
    public async Task Run_limits_on_the_message_override_the_teams_and_bad_limits_are_refused()
    {
        var session = await app.CreateSessionAsync();
        await app.Service<ISessions>().ChooseTeamAsync(
            session.OwnerId, session.Id, new Guid("00000000-0000-7000-8000-0000000000c3"), "Planner-Coder-Critic", CancellationToken.None);
        app.Provider.Enqueue(Reply.Text("Plan: nothing to do."), Reply.Text("Nothing to code."));

        var response = await app.Client.PostAsJsonAsync($"/api/v1/sessions/{session.Id}/messages", new { text = "two turns only", limits = new { maxTurns = 2 } });
        var posted = (await response.Content.ReadFromJsonAsync<PostedMessage>(Json.Options))!;
        var end = await app.WaitForRunEndAsync(session.Id, posted.RunId, Deadline);

        var completed = Assert.IsType<RunCompleted>(end.Data);
        Assert.Equal("Reached the limit of 2 turns.", completed.Reason);
        var bad = await app.Client.PostAsJsonAsync($"/api/v1/sessions/{session.Id}/messages", new { text = "x", limits = new { maxTurns = 0 } });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("maxTurns", await bad.Content.ReadAsStringAsync());
    }

    private static string Run(Guid sessionId, Guid runId, string action) => $"/api/v1/sessions/{sessionId}/runs/{runId}/{action}";

    private async Task<SessionSummary> SummaryAsync(Guid sessionId) =>
        (await app.Client.GetFromJsonAsync<SessionSummary>($"/api/v1/sessions/{sessionId}", Json.Options))!;
}
