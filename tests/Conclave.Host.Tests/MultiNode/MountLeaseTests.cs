using Conclave.Sessions.Contracts;
using Conclave.Testing;
using Conclave.Testing.Host;

namespace Conclave.Host.Tests.MultiNode;

/// <summary>
/// The placement is the mount lease (ADR 0015): only the node holding a session mounts its workspace image, a node
/// unmounts only what it holds, and a node that lost the session stops using it. Node A is a separate Host process,
/// node B the fixture's in-process Host, both on one database and one workspace root on this machine.
/// </summary>
public sealed class MountLeaseTests(TwoNodesApp nodeB) : IClassFixture<TwoNodesApp>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task A_node_that_read_a_sessions_files_without_holding_it_leaves_the_holders_mount_when_it_stops()
    {
        var session = await nodeB.CreateSessionAsync("mount lease");
        nodeB.Provider.Enqueue(
            Reply.ToolCall("run_python", """{"code": "with open('f.txt', 'w') as f:\n    f.write('written on B')"}"""),
            Reply.Text("Written."));
        var onB = await nodeB.PostMessageAsync(session.Id, "Write f.txt.");
        Assert.IsType<RunCompleted>((await nodeB.WaitForRunEndAsync(session.Id, onB.RunId, Deadline)).Data);
        var mountPoint = WorkspaceMounts.SessionFolder(nodeB.WorkspaceRoot, session.Id)!;

        await using (var nodeA = await HostProcess.StartAsync(nodeB))
        {
            using var apiA = await nodeA.SignInAsync();
            // A reads through B's mount: B holds the session, A mounts nothing and claims nothing.
            Assert.Equal(12, (await apiA.FilesAsync(session.Id))["f.txt"]);
            Assert.Equal("written on B", await apiA.GetStringAsync($"/api/v1/sessions/{session.Id}/files/f.txt"));
            Assert.Equal((0, 1), await nodeB.RowsOfAsync(nodeA.SandboxNodeId));

            await nodeA.TerminateAsync();
            Assert.Equal(0, nodeA.ExitCode);
        }

        // Before the lease, A unmounted on stopping every image it had looked at: B's own file API then found no
        // file system at the mount point, while B's container kept the detached one.
        Assert.Contains(mountPoint, WorkspaceMounts.Under(nodeB.WorkspaceRoot));
        Assert.Equal(12, (await nodeB.Client.FilesAsync(session.Id))["f.txt"]);
        nodeB.Provider.Enqueue(Reply.ToolCall("run_python", """{"code": "print(open('f.txt').read())"}"""), Reply.Text("Read."));
        var read = await nodeB.PostMessageAsync(session.Id, "Read f.txt.");
        Assert.IsType<RunCompleted>((await nodeB.WaitForRunEndAsync(session.Id, read.RunId, Deadline)).Data);
        Assert.Equal(["written on B"], RunOutput.StdoutLines(RunOutput.Tool(await nodeB.EventsAsync(session.Id), read.RunId)));
    }

    [Fact]
    public async Task A_node_that_lost_a_session_while_paused_stops_writing_to_it_and_the_new_holder_keeps_one_file_system()
    {
        await using var nodeA = await HostProcess.StartAsync(nodeB);
        try
        {
            using var apiA = await nodeA.SignInAsync();
            var session = await apiA.CreateSessionAsync("lost while paused");
            // A thread that outlives its execution appends a line every 50 ms: a writer only its container's removal stops.
            nodeB.Provider.Enqueue(
                Reply.ToolCall("run_python", """{"code": "import threading, time\ndef beat():\n    while True:\n        with open('beat.txt', 'a') as f:\n            f.write('A\\n')\n        time.sleep(0.05)\nthreading.Thread(target=beat, daemon=True).start()"}"""),
                Reply.Text("Beating."));
            var onA = await apiA.PostMessageAsync(session.Id, "Start writing.");
            Assert.IsType<RunCompleted>((await nodeB.WaitForRunEndAsync(session.Id, onA.RunId, Deadline)).Data);
            await Eventually.Until(async () => (await nodeB.Client.FilesAsync(session.Id)).ContainsKey("beat.txt"), Deadline, "A's writer has begun");
            var mountPoint = WorkspaceMounts.SessionFolder(nodeB.WorkspaceRoot, session.Id)!;

            // A freezes; a run on B calls A's sandbox, sees A's heartbeat stop, takes the session over and runs it in a
            // container of its own, on the image A still has mounted.
            await nodeA.PauseAsync();
            nodeB.Provider.Enqueue(Reply.ToolCall("run_python", """{"code": "print('taken over')"}"""), Reply.Text("Taken."));
            var takeover = await nodeB.PostMessageAsync(session.Id, "Take it over.");
            Assert.IsType<RunCompleted>((await nodeB.WaitForRunEndAsync(session.Id, takeover.RunId, Deadline)).Data);
            Assert.Equal(["taken over"], RunOutput.StdoutLines(RunOutput.Tool(await nodeB.EventsAsync(session.Id), takeover.RunId)));
            Assert.Single(await nodeB.SessionContainersAsync(nodeB.SandboxNodeId, session.Id));

            // A wakes up, finds the session is B's now, removes its container (the writer with it) and detaches its mount.
            await nodeA.ResumeAsync();
            await Eventually.Until(async () => (await nodeB.SessionContainersAsync(nodeA.SandboxNodeId, session.Id, all: true)).Count == 0,
                Deadline, "A removes its container of the session it lost");
            await Eventually.Until(() => !WorkspaceMounts.Under(nodeB.WorkspaceRoot).Contains(mountPoint), Deadline, "A detaches its mount");

            // Nothing writes any more: the file does not grow over a whole run. B's files API mounts the image again and
            // gets the file system B's container still has (the same loop device), not a second one: a file uploaded
            // through that mount is there at once for the code in B's container.
            var before = (await nodeB.Client.FilesAsync(session.Id))["beat.txt"];
            using var upload = new MultipartFormDataContent { { new ByteArrayContent("uploaded on B"u8.ToArray()), "files", "after.txt" } };
            (await nodeB.Client.PostAsync($"/api/v1/sessions/{session.Id}/files", upload)).EnsureSuccessStatusCode();
            nodeB.Provider.Enqueue(
                Reply.ToolCall("run_python", """{"code": "import os\nprint(open('after.txt').read())\nprint(os.path.getsize('beat.txt'))"}"""),
                Reply.Text("Read."));
            var read = await nodeB.PostMessageAsync(session.Id, "Read both.");
            Assert.IsType<RunCompleted>((await nodeB.WaitForRunEndAsync(session.Id, read.RunId, Deadline)).Data);

            Assert.Equal(["uploaded on B", before.ToString(System.Globalization.CultureInfo.InvariantCulture)],
                RunOutput.StdoutLines(RunOutput.Tool(await nodeB.EventsAsync(session.Id), read.RunId)));
            Assert.Equal(before, (await nodeB.Client.FilesAsync(session.Id))["beat.txt"]);
            Assert.Equal((0, 1), await nodeB.RowsOfAsync(nodeA.SandboxNodeId));
        }
        finally
        {
            await nodeB.RemoveContainersAsync(nodeA.SandboxNodeId);
        }
    }
}
