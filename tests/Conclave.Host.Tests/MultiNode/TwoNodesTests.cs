using System.Net.Http.Json;
using Conclave.Host.Tests.Agents;
using Conclave.Sessions.Contracts;
using Conclave.Testing;
using Conclave.Testing.Host;

namespace Conclave.Host.Tests.MultiNode;

/// <summary>
/// Two Hosts on one database (ADR 0015): node A is a separate process (so it can be killed or stopped),
/// node B the fixture's in-process Host. Runs are posted on A, so they execute there; B's clients watch.
/// </summary>
public sealed class TwoNodesTests(TwoNodesApp nodeB) : IClassFixture<TwoNodesApp>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task An_SSE_client_on_node_B_sees_a_run_executing_on_node_A_live_and_gap_free()
    {
        await using var nodeA = await HostProcess.StartAsync(nodeB);
        using var apiA = await nodeA.SignInAsync();
        var listed = new TaskCompletionSource<Guid>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var sidebar = nodeB.Service<ISessionChanges>().Subscribe(ConclaveApp.DefaultUserId, id => listed.TrySetResult(id));
        var session = await apiA.CreateSessionAsync("two nodes");
        // The owner's session list on B hears of a session made on A.
        Assert.Equal(session.Id, await listed.Task.WaitAsync(Deadline));
        await using var watch = LiveWatch.Start(nodeB.Client, session.Id);
        await watch.UntilTypeAsync(nameof(SessionStarted), Deadline);

        var index = nodeB.Provider.Requests.Count;
        nodeB.Provider.Enqueue(Reply.ToolCall("list_files", "{}"), Reply.Chunks("All ", "done.").Gated());
        var run = await apiA.PostMessageAsync(session.Id, "List my files.");
        await nodeB.Provider.WaitForRequestAsync(index + 1, Deadline);
        // The answer is held back: what B's client has now it got while the run was still going, on A.
        await watch.UntilTypeAsync(nameof(ToolCallCompleted), Deadline);
        Assert.DoesNotContain(watch.Events, e => e.Type == nameof(RunCompleted));

        nodeB.Provider.ReleaseChunk(2);
        await watch.UntilTypeAsync(nameof(RunCompleted), Deadline);

        var events = await nodeB.EventsAsync(session.Id);
        Assert.Equal(events.Select(e => e.Version), watch.Events.Select(e => e.Version));
        Assert.Equal(events.Select(e => e.Data.GetType().Name), watch.Events.Select(e => e.Type));
        Assert.Contains($":{nodeA.ProcessId}:", Assert.Single(events.Select(e => e.Data).OfType<RunStarted>(), s => s.RunId == run.RunId).NodeId);
    }

    [Fact]
    public async Task When_node_A_is_killed_mid_run_node_B_finishes_the_run_and_its_client_misses_nothing()
    {
        await using var nodeA = await HostProcess.StartAsync(nodeB);
        using var apiA = await nodeA.SignInAsync();
        var session = await apiA.CreateSessionAsync("two nodes");
        await using var watch = LiveWatch.Start(nodeB.Client, session.Id);
        await watch.UntilTypeAsync(nameof(SessionStarted), Deadline);

        var index = nodeB.Provider.Requests.Count;
        nodeB.Provider.Enqueue(
            Reply.ToolCall("list_files", "{}", id: "call_on_a"),
            Reply.Chunks("Half an ", "answer").StallAfter(1));
        var run = await apiA.PostMessageAsync(session.Id, "List my files, then explain.");
        var stalled = await nodeB.Provider.WaitForRequestAsync(index + 1, Deadline);
        await stalled.WaitForChunkSentAsync(0, Deadline);
        await watch.UntilTypeAsync(nameof(ToolCallCompleted), Deadline);

        nodeB.Provider.Enqueue(Reply.Text("Finished on B."));
        await nodeA.KillAsync();
        await watch.UntilTypeAsync(nameof(RunCompleted), Deadline);

        var events = await nodeB.EventsAsync(session.Id);
        Assert.Equal(events.Select(e => e.Version), watch.Events.Select(e => e.Version));
        ResilienceTests.AssertNoStepTwice(events);
        Assert.Single(events, e => e.Data is ToolCallCompleted);
        Assert.Equal(1, Assert.Single(events.Select(e => e.Data).OfType<RunRequeued>()).Attempt);
        var started = events.Select(e => e.Data).OfType<RunStarted>().Where(s => s.RunId == run.RunId).Select(s => s.NodeId).ToList();
        Assert.Contains($":{nodeA.ProcessId}:", started[0]);
        Assert.Contains($":{Environment.ProcessId}:", started[^1]);
        Assert.Equal(["", "Finished on B."], events.Select(e => e.Data).OfType<AgentMessageCompleted>().Select(m => m.Text));
    }

    [Fact]
    public async Task A_node_stopped_with_SIGTERM_hands_its_run_on_uncounted_and_tells_its_SSE_clients_when_to_reconnect()
    {
        await using var nodeA = await HostProcess.StartAsync(nodeB, new Dictionary<string, string>
        {
            ["Conclave:Node:ReconnectHint"] = "00:00:02.500",
        });
        using var apiA = await nodeA.SignInAsync();
        var session = await apiA.CreateSessionAsync("two nodes");
        await using var watchOnA = LiveWatch.Start(apiA, session.Id);
        await using var watchOnB = LiveWatch.Start(nodeB.Client, session.Id);
        await watchOnA.UntilTypeAsync(nameof(SessionStarted), Deadline);
        await watchOnB.UntilTypeAsync(nameof(SessionStarted), Deadline);

        var index = nodeB.Provider.Requests.Count;
        nodeB.Provider.Enqueue(Reply.Chunks("Half an ", "answer").StallAfter(1));
        var run = await apiA.PostMessageAsync(session.Id, "Explain.");
        var stalled = await nodeB.Provider.WaitForRequestAsync(index, Deadline);
        await stalled.WaitForChunkSentAsync(0, Deadline);

        nodeB.Provider.Enqueue(Reply.Text("Finished on B."));
        await nodeA.TerminateAsync();

        Assert.Equal(0, nodeA.ExitCode);
        await watchOnA.Ended.WaitAsync(Deadline);
        Assert.Equal(TimeSpan.FromMilliseconds(2500), watchOnA.Retry);
        await watchOnB.UntilTypeAsync(nameof(RunCompleted), Deadline);
        var events = await nodeB.EventsAsync(session.Id);
        var requeued = Assert.Single(events.Select(e => e.Data).OfType<RunRequeued>());
        Assert.Equal(0, requeued.Attempt); // a node that left in good order is not a failed attempt
        Assert.Equal(run.RunId, requeued.RunId);
        Assert.Equal(events.Select(e => e.Version), watchOnB.Events.Select(e => e.Version));
        Assert.Equal(["Finished on B."], events.Select(e => e.Data).OfType<AgentMessageCompleted>().Select(m => m.Text));
    }
}
