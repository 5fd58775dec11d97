using System.Net;
using System.Net.Http.Json;
using Conclave.Agents.Contracts;
using Conclave.Agents.Runs;
using Conclave.Sessions.Contracts;
using Conclave.Testing;
using Conclave.Testing.Host;

namespace Conclave.Host.Tests.Agents;

/// <summary>
/// A tool under the "ask" policy waits for the run's owner: the request is in the log, the run gives its
/// lease up, and the answer (over REST here; the page in the browser tests) runs the call or tells the agent
/// it was denied. Approvals survive a restart and are answered once.
/// </summary>
public sealed class ApprovalTests(ConclaveApp app) : IClassFixture<ConclaveApp>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task An_approved_call_runs_once_then_a_second_answer_is_a_conflict_and_another_user_gets_404()
    {
        var (session, runId) = await StartAsync(app, "approve", Reply.ToolCall("list_files", "{}", id: "call_ask_1"));
        var asked = (ToolApprovalRequested)(await app.WaitForEventAsync<ToolApprovalRequested>(session, a => a.RunId == runId, Deadline)).Data;

        Assert.Equal(("call_ask_1", "list_files", "Clerk"), (asked.CallId, asked.Tool, asked.Agent));
        Assert.True(asked.ExpiresAt > asked.At.AddMinutes(30), "the default wait is an hour");
        await Eventually.Until(() => !app.Service<ActiveRuns>().IsExecuting(runId), Deadline, "the waiting run's execution returned");
        Assert.Equal(RunStatus.AwaitingApproval, await StatusAsync(app, session, runId));
        Assert.DoesNotContain(await app.EventsAsync(session), e => e.Data is ToolCallCompleted);
        Assert.Equal(HttpStatusCode.Conflict, (await app.Client.PostAsync(RunUrl(session, runId, "pause"), null)).StatusCode);

        var stranger = await app.CreateUserClientAsync("stranger-" + Guid.NewGuid().ToString("N")[..6]);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.PostAsJsonAsync(ApprovalUrl(session, runId, "call_ask_1"), new { approve = true })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client.PostAsJsonAsync(ApprovalUrl(session, runId, "call_nobody_made"), new { approve = true })).StatusCode);

        app.Provider.Enqueue(Reply.Text("Your workspace is empty."));
        var approve = await app.Client.PostAsJsonAsync(ApprovalUrl(session, runId, "call_ask_1"), new { approve = true });
        Assert.Equal(HttpStatusCode.Accepted, approve.StatusCode);
        var end = await app.WaitForRunEndAsync(session, runId, Deadline);

        Assert.IsType<RunCompleted>(end.Data);
        var events = await app.EventsAsync(session);
        var done = Assert.Single(events.Select(e => e.Data).OfType<ToolCallCompleted>());
        Assert.Equal(ToolOutcome.Ok, done.Outcome);
        Assert.Single(events.Select(e => e.Data).OfType<ToolApprovalGranted>());
        var again = await app.Client.PostAsJsonAsync(ApprovalUrl(session, runId, "call_ask_1"), new { approve = true });
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
    }

    [Fact]
    public async Task A_denied_call_does_not_run_and_the_agent_reads_why_then_goes_on()
    {
        var (session, runId) = await StartAsync(app, "deny", Reply.ToolCall("list_files", "{}", id: "call_ask_2"));
        await app.WaitForEventAsync<ToolApprovalRequested>(session, a => a.RunId == runId, Deadline);
        var first = app.Provider.Requests.Count;
        app.Provider.Enqueue(Reply.Text("Understood, I will not look at the files."));

        var deny = await app.Client.PostAsJsonAsync(ApprovalUrl(session, runId, "call_ask_2"), new { approve = false, reason = "Not my private files, please." });
        Assert.Equal(HttpStatusCode.Accepted, deny.StatusCode);
        Assert.IsType<RunCompleted>((await app.WaitForRunEndAsync(session, runId, Deadline)).Data);

        var done = Assert.Single((await app.EventsAsync(session)).Select(e => e.Data).OfType<ToolCallCompleted>());
        Assert.Equal(ToolOutcome.Denied, done.Outcome);
        var toolMessage = app.Provider.Requests[first].Messages.Single(m => m.Role == "tool" && m.ToolCallId == "call_ask_2");
        Assert.Contains("did not run", toolMessage.Content, StringComparison.Ordinal);
        Assert.Contains("Not my private files, please.", toolMessage.Content, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Always_allow_lets_the_next_calls_of_the_tool_in_the_session_run_without_asking()
    {
        var (session, runId) = await StartAsync(app, "always", Reply.ToolCall("list_files", "{}", id: "call_ask_3"));
        await app.WaitForEventAsync<ToolApprovalRequested>(session, a => a.RunId == runId, Deadline);
        app.Provider.Enqueue(Reply.ToolCall("list_files", "{}", id: "call_ask_4"), Reply.Text("Nothing there."));

        await app.Client.PostAsJsonAsync(ApprovalUrl(session, runId, "call_ask_3"), new { approve = true, alwaysInSession = true });
        Assert.IsType<RunCompleted>((await app.WaitForRunEndAsync(session, runId, Deadline)).Data);

        var events = (await app.EventsAsync(session)).Select(e => e.Data).ToList();
        Assert.Equal(2, events.OfType<ToolCallCompleted>().Count(c => c.Outcome == ToolOutcome.Ok));
        Assert.Equal("call_ask_3", Assert.Single(events.OfType<ToolApprovalRequested>()).CallId);
    }

    [Fact]
    public async Task An_approval_answered_the_instant_it_is_asked_still_runs_the_call()
    {
        // The answer can land before the waiting run has given its lease up: its RunRequested then finds the lease
        // held, and the run must still go on (once).
        for (var i = 0; i < 8; i++)
        {
            var (session, runId) = await StartAsync(app, $"instant {i}", Reply.ToolCall("list_files", "{}", id: $"call_instant_{i}"));
            app.Provider.Enqueue(Reply.Text("Empty."));
            await app.WaitForEventAsync<ToolApprovalRequested>(session, a => a.RunId == runId, Deadline);

            Assert.Equal(HttpStatusCode.Accepted, (await app.Client.PostAsJsonAsync(ApprovalUrl(session, runId, $"call_instant_{i}"), new { approve = true })).StatusCode);

            Assert.IsType<RunCompleted>((await app.WaitForRunEndAsync(session, runId, Deadline)).Data);
            Assert.Single((await app.EventsAsync(session)).Select(e => e.Data).OfType<ToolCallCompleted>(), c => c.Outcome == ToolOutcome.Ok);
        }
    }

    [Fact]
    public async Task An_approval_pending_over_a_restart_is_answered_on_the_new_host_and_the_call_runs_exactly_once()
    {
        var (session, runId) = await StartAsync(app, "restart", Reply.ToolCall("write_file", """{"path": "once.txt", "content": "x"}""", id: "call_ask_5"), tool: "write_file");
        await app.WaitForEventAsync<ToolApprovalRequested>(session, a => a.RunId == runId, Deadline);

        await app.RestartAsync();

        app.Provider.Enqueue(Reply.Text("Written."));
        Assert.Equal(HttpStatusCode.Accepted, (await app.Client.PostAsJsonAsync(ApprovalUrl(session, runId, "call_ask_5"), new { approve = true })).StatusCode);
        Assert.IsType<RunCompleted>((await app.WaitForRunEndAsync(session, runId, Deadline)).Data);

        var events = (await app.EventsAsync(session)).Select(e => e.Data).ToList();
        var done = Assert.Single(events.OfType<ToolCallCompleted>());
        Assert.Equal(ToolOutcome.Ok, done.Outcome);
        Assert.Single(events.OfType<ToolCallRequested>());
    }

    [Fact]
    public async Task A_team_asking_before_a_tool_it_does_not_have_is_refused_naming_the_field()
    {
        var response = await app.Client.PostAsJsonAsync("/api/v1/teams", new
        {
            name = "Confused",
            agents = new[] { new { name = "Clerk", systemPrompt = "You are a clerk.", tools = new[] { "list_files" }, askFirst = new[] { "run_python" }, color = "#123456" } },
        });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("agents[0].askFirst", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    /// <summary>A session of a one-agent team that asks before <paramref name="tool"/>, and a run whose first reply is <paramref name="reply"/>.</summary>
    internal static async Task<(Guid Session, Guid RunId)> StartAsync(ConclaveApp app, string title, Reply reply, string tool = "list_files")
    {
        var created = await app.Client.PostAsJsonAsync("/api/v1/teams", new
        {
            name = $"Careful {title} {Guid.NewGuid():N}"[..40],
            agents = new[] { new { name = "Clerk", systemPrompt = "You are a careful clerk.", tools = new[] { tool }, askFirst = new[] { tool }, color = "#123456" } },
            termination = new { endOnAnswer = true, maxTurns = 6 },
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var team = (await created.Content.ReadFromJsonAsync<TeamDefinition>(Json.Options))!;
        Assert.Equal([tool], team.Agents[0].AskFirst);
        var session = await app.CreateSessionAsync(title);
        (await app.Client.PutAsJsonAsync($"/api/v1/sessions/{session.Id}/team", new { teamId = team.Id })).EnsureSuccessStatusCode();
        app.Provider.Enqueue(reply);
        var posted = await app.PostMessageAsync(session.Id, "Please look at my files.");
        return (session.Id, posted.RunId);
    }

    internal static string ApprovalUrl(Guid session, Guid runId, string callId) => $"/api/v1/sessions/{session}/runs/{runId}/approvals/{callId}";

    private static string RunUrl(Guid session, Guid runId, string action) => $"/api/v1/sessions/{session}/runs/{runId}/{action}";

    internal static async Task<RunStatus> StatusAsync(ConclaveApp app, Guid session, Guid runId) =>
        (await app.Client.GetFromJsonAsync<List<RunSummary>>($"/api/v1/sessions/{session}/runs", Json.Options))!.Single(r => r.Id == runId).Status;
}

/// <summary>Approvals that expire at once: a timeout counts as a denial.</summary>
public sealed class ApprovalTimeoutTests : IClassFixture<ApprovalTimeoutTests.QuickApp>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private readonly QuickApp _app;

    public ApprovalTimeoutTests(QuickApp app) => _app = app;

    public sealed class QuickApp : ConclaveApp
    {
        public QuickApp() => ExtraSettings["Conclave:Runs:ApprovalTimeout"] = "00:00:02";
    }

    [Fact]
    public async Task An_approval_nobody_answers_is_denied_when_it_times_out_and_the_agent_is_told()
    {
        var (session, runId) = await ApprovalTests.StartAsync(_app, "timeout", Reply.ToolCall("list_files", "{}", id: "call_late"));
        _app.Provider.Enqueue(Reply.Text("Nobody answered; I will go on without the files."));

        var end = await _app.WaitForRunEndAsync(session, runId, Deadline);

        Assert.IsType<RunCompleted>(end.Data);
        var events = (await _app.EventsAsync(session)).Select(e => e.Data).ToList();
        var denied = Assert.Single(events.OfType<ToolApprovalDenied>());
        Assert.True(denied.TimedOut);
        Assert.Equal(ToolOutcome.Denied, Assert.Single(events.OfType<ToolCallCompleted>()).Outcome);
        var late = await _app.Client.PostAsJsonAsync(ApprovalTests.ApprovalUrl(session, runId, "call_late"), new { approve = true });
        Assert.Equal(HttpStatusCode.Conflict, late.StatusCode);
    }
}
