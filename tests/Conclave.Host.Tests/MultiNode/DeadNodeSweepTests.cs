using Conclave.Sessions.Contracts;
using Conclave.Testing;
using Conclave.Testing.Host;

namespace Conclave.Host.Tests.MultiNode;

/// <summary>
/// A node killed outright leaves containers, placements and a queue behind (ADR 0015); a live node removes them once
/// the dead one has been silent past <c>DeadNodeGrace</c> (six seconds here). Node A is a separate Host process.
/// </summary>
public sealed class DeadNodeSweepTests(QuickSweepApp nodeB) : IClassFixture<QuickSweepApp>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task A_live_node_removes_the_containers_placements_and_queue_a_killed_node_left()
    {
        await using var nodeA = await HostProcess.StartAsync(nodeB);
        try
        {
            using var apiA = await nodeA.SignInAsync();
            var session = await apiA.CreateSessionAsync("killed node");
            nodeB.Provider.Enqueue(
                Reply.ToolCall("run_python", """{"code": "with open('f.txt', 'w') as f:\n    f.write('written on A')"}"""),
                Reply.Text("Written."));
            var onA = await apiA.PostMessageAsync(session.Id, "Write f.txt.");
            Assert.IsType<RunCompleted>((await nodeB.WaitForRunEndAsync(session.Id, onA.RunId, Deadline)).Data);
            Assert.Single(await nodeB.SessionContainersAsync(nodeA.SandboxNodeId, session.Id));
            Assert.Equal((1, 1), await nodeB.RowsOfAsync(nodeA.SandboxNodeId));
            Assert.Equal(2, await nodeB.QueueTablesOfAsync(nodeA.SandboxNodeId));

            await nodeA.KillAsync();

            await Eventually.Until(async () => !await nodeB.HasNodeRowAsync(nodeA.SandboxNodeId), Deadline, "a live node forgets the killed one");
            Assert.Empty(await nodeB.ContainersOfAsync(nodeA.SandboxNodeId));
            Assert.Equal((0, 0), await nodeB.RowsOfAsync(nodeA.SandboxNodeId));
            Assert.Equal(0, await nodeB.QueueTablesOfAsync(nodeA.SandboxNodeId));

            // The session is free: B claims it, takes on the mount A left, and goes on with the files.
            nodeB.Provider.Enqueue(Reply.ToolCall("run_python", """{"code": "print(open('f.txt').read())"}"""), Reply.Text("Read."));
            var onB = await nodeB.PostMessageAsync(session.Id, "Read f.txt.");
            Assert.IsType<RunCompleted>((await nodeB.WaitForRunEndAsync(session.Id, onB.RunId, Deadline)).Data);
            Assert.Equal(["written on A"], RunOutput.StdoutLines(RunOutput.Tool(await nodeB.EventsAsync(session.Id), onB.RunId)));
        }
        finally
        {
            await nodeB.RemoveContainersAsync(nodeA.SandboxNodeId);
        }
    }

    [Fact]
    public async Task A_node_swept_while_it_was_frozen_sets_its_queue_up_again_and_serves_calls_once_it_resumes()
    {
        await using var nodeA = await HostProcess.StartAsync(nodeB);
        try
        {
            using var apiA = await nodeA.SignInAsync();
            Assert.Equal(2, await nodeB.QueueTablesOfAsync(nodeA.SandboxNodeId));

            await nodeA.PauseAsync();
            await Eventually.Until(async () => !await nodeB.HasNodeRowAsync(nodeA.SandboxNodeId), Deadline, "a live node sweeps the silent one");
            Assert.Equal(0, await nodeB.QueueTablesOfAsync(nodeA.SandboxNodeId));

            await nodeA.ResumeAsync();
            await Eventually.Until(
                async () => await nodeB.QueueTablesOfAsync(nodeA.SandboxNodeId) == 2 && (await nodeB.RowsOfAsync(nodeA.SandboxNodeId)).LiveHeartbeats == 1,
                Deadline, "A beats again and sets its queue up again");

            // A holds a new session, and a run on B reaches A's kernel through A's queue.
            var session = await apiA.CreateSessionAsync("back from the sweep");
            nodeB.Provider.Enqueue(Reply.ToolCall("run_python", """{"code": "x = 41"}"""), Reply.Text("Set."));
            var onA = await apiA.PostMessageAsync(session.Id, "Set x.");
            Assert.IsType<RunCompleted>((await nodeB.WaitForRunEndAsync(session.Id, onA.RunId, Deadline)).Data);
            nodeB.Provider.Enqueue(Reply.ToolCall("run_python", """{"code": "print(x + 1)"}"""), Reply.Text("Done."));
            var onB = await nodeB.PostMessageAsync(session.Id, "Print x + 1.");
            Assert.IsType<RunCompleted>((await nodeB.WaitForRunEndAsync(session.Id, onB.RunId, Deadline)).Data);
            Assert.Equal(["42"], RunOutput.StdoutLines(RunOutput.Tool(await nodeB.EventsAsync(session.Id), onB.RunId)));
        }
        finally
        {
            await nodeB.RemoveContainersAsync(nodeA.SandboxNodeId);
        }
    }
}

/// <summary>Two nodes whose leftovers are swept six seconds after they fall silent (the other tests keep the default five minutes).</summary>
public sealed class QuickSweepApp : TwoNodesApp
{
    public QuickSweepApp() => ExtraSettings["Conclave:Sandbox:DeadNodeGrace"] = "00:00:06";
}
