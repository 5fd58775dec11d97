using System.Net.Http.Json;
using Conclave.Sessions.Contracts;
using Conclave.Testing;
using Conclave.Testing.Host;

namespace Conclave.Host.Tests.Agents;

/// <summary>
/// The old system's zombie runs: a worker killed mid-run. Here a Host runs as its own process, is
/// killed (SIGKILL, no goodbye) mid-run, and a new Host on the same database finishes the run.
/// </summary>
public sealed class KilledHostTests(ConclaveApp app) : IClassFixture<ConclaveApp>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_run_whose_host_process_is_killed_finishes_on_a_new_host_with_no_step_lost_or_repeated()
    {
        // The in-process Host set the database up (accounts, the test client); it steps aside for the process.
        await app.StopHostAsync();
        await using var child = await HostProcess.StartAsync(app);
        using var api = await child.SignInAsync();

        var first = app.Provider.Requests.Count;
        app.Provider.Enqueue(
            Reply.ToolCall("list_files", "{}", id: "call_before_kill"),
            Reply.Chunks("Half an ", "answer").StallAfter(1));
        var created = await api.PostAsJsonAsync("/api/v1/sessions", new { title = "killed" });
        var session = (await created.Content.ReadFromJsonAsync<SessionSummary>(Json.Options))!;
        var posted = await api.PostAsJsonAsync($"/api/v1/sessions/{session.Id}/messages", new { text = "List my files, then explain." });
        var run = (await posted.Content.ReadFromJsonAsync<PostedMessage>(Json.Options))!;
        var stalled = await app.Provider.WaitForRequestAsync(first + 1, Deadline);
        await stalled.WaitForChunkSentAsync(0, Deadline);

        await child.KillAsync();

        app.Provider.Enqueue(Reply.Text("The workspace is empty."));
        await app.StartHostAsync();
        var end = await app.WaitForRunEndAsync(session.Id, run.RunId, Deadline);

        Assert.IsType<RunCompleted>(end.Data);
        var events = await app.EventsAsync(session.Id);
        ResilienceTests.AssertNoStepTwice(events);
        Assert.Single(events, e => e.Data is ToolCallCompleted);
        Assert.Contains(events, e => e.Data is RunRequeued);
        Assert.Equal(["", "The workspace is empty."], events.Select(e => e.Data).OfType<AgentMessageCompleted>().Select(m => m.Text));
        Assert.Contains(app.Provider.Requests[first + 2].Messages, m => m.Role == "tool" && m.ToolCallId == "call_before_kill");
    }
}
