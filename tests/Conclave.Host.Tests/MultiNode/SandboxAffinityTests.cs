using System.Diagnostics;
using System.Net.Http.Json;
using Conclave.Sessions.Contracts;
using Conclave.Testing;
using Conclave.Testing.Host;

namespace Conclave.Host.Tests.MultiNode;

/// <summary>
/// A session's sandbox lives on one node (ADR 0015): node A is a separate process, node B the fixture's
/// in-process Host, both on one database and one workspace root. The scripted model asks for the code.
/// </summary>
public sealed class SandboxAffinityTests(TwoNodesApp nodeB) : IClassFixture<TwoNodesApp>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task A_tool_call_from_a_run_on_node_B_executes_in_the_sandbox_that_node_A_holds()
    {
        await using var nodeA = await HostProcess.StartAsync(nodeB);
        try
        {
            using var apiA = await nodeA.SignInAsync();
            var session = await apiA.CreateSessionAsync("sandbox affinity");
            nodeB.Provider.Enqueue(Reply.ToolCall("run_python", """{"code": "import socket\nx = 41\nprint(socket.gethostname())"}"""), Reply.Text("Set."));
            var onA = await apiA.PostMessageAsync(session.Id, "Set x to 41.");
            Assert.IsType<RunCompleted>((await nodeB.WaitForRunEndAsync(session.Id, onA.RunId, Deadline)).Data);

            nodeB.Provider.Enqueue(Reply.ToolCall("run_python", """{"code": "print(x + 1)\nprint(socket.gethostname())"}"""), Reply.Text("Done."));
            var onB = await nodeB.PostMessageAsync(session.Id, "Print x + 1.");
            Assert.IsType<RunCompleted>((await nodeB.WaitForRunEndAsync(session.Id, onB.RunId, Deadline)).Data);

            var events = await nodeB.EventsAsync(session.Id);
            Assert.Contains($":{Environment.ProcessId}:", RunOutput.NodeOf(events, onB.RunId));
            var (set, read) = (RunOutput.Tool(events, onA.RunId), RunOutput.Tool(events, onB.RunId));
            var hostname = RunOutput.StdoutLines(set)[0];
            // x lives only in the kernel of A's container: the call from B's run reached that kernel.
            Assert.Equal(["42", hostname], RunOutput.StdoutLines(read));
            Assert.Single(await nodeB.SessionContainersAsync(nodeA.SandboxNodeId, session.Id));
            Assert.Empty(await nodeB.SessionContainersAsync(nodeB.SandboxNodeId, session.Id));
        }
        finally
        {
            await nodeB.RemoveContainersAsync(nodeA.SandboxNodeId);
        }
    }

    [Fact]
    public async Task After_node_A_is_killed_the_sessions_sandbox_is_recreated_on_node_B_with_its_files()
    {
        await using var nodeA = await HostProcess.StartAsync(nodeB);
        try
        {
            using var apiA = await nodeA.SignInAsync();
            var session = await apiA.CreateSessionAsync("sandbox affinity");
            nodeB.Provider.Enqueue(
                Reply.ToolCall("run_python", """{"code": "x = 41\nwith open('f.txt', 'w') as f:\n    f.write('written on A')"}"""),
                Reply.Text("Written."));
            var onA = await apiA.PostMessageAsync(session.Id, "Write f.txt.");
            Assert.IsType<RunCompleted>((await nodeB.WaitForRunEndAsync(session.Id, onA.RunId, Deadline)).Data);
            Assert.Single(await nodeB.SessionContainersAsync(nodeA.SandboxNodeId, session.Id));

            await nodeA.KillAsync();
            nodeB.Provider.Enqueue(
                Reply.ToolCall("run_python", """{"code": "print(open('f.txt').read())\nprint('x' in globals())"}"""),
                Reply.Text("Read."));
            var onB = await nodeB.PostMessageAsync(session.Id, "Read f.txt.");
            Assert.IsType<RunCompleted>((await nodeB.WaitForRunEndAsync(session.Id, onB.RunId, Deadline)).Data);

            var events = await nodeB.EventsAsync(session.Id);
            // The files are kept (the workspace is on the shared root); the variables went with A's kernel.
            Assert.Equal(["written on A", "False"], RunOutput.StdoutLines(RunOutput.Tool(events, onB.RunId)));
            Assert.Single(await nodeB.SessionContainersAsync(nodeB.SandboxNodeId, session.Id));
        }
        finally
        {
            await nodeB.RemoveContainersAsync(nodeA.SandboxNodeId);
        }
    }

    [Fact]
    public async Task A_node_stopped_with_SIGTERM_gives_its_sandboxes_up_and_node_B_goes_on_with_the_files()
    {
        await using var nodeA = await HostProcess.StartAsync(nodeB);
        try
        {
            using var apiA = await nodeA.SignInAsync();
            var session = await apiA.CreateSessionAsync("sandbox affinity");
            nodeB.Provider.Enqueue(
                Reply.ToolCall("run_python", """{"code": "with open('f.txt', 'w') as f:\n    f.write('written on A')"}"""),
                Reply.Text("Written."));
            var onA = await apiA.PostMessageAsync(session.Id, "Write f.txt.");
            Assert.IsType<RunCompleted>((await nodeB.WaitForRunEndAsync(session.Id, onA.RunId, Deadline)).Data);
            Assert.Equal((1, 1), await nodeB.RowsOfAsync(nodeA.SandboxNodeId));

            await nodeA.TerminateAsync();

            // A left in good order: nothing of it is left for B to wait out.
            Assert.Equal((0, 0), await nodeB.RowsOfAsync(nodeA.SandboxNodeId));
            Assert.Empty(await nodeB.SessionContainersAsync(nodeA.SandboxNodeId, session.Id));
            nodeB.Provider.Enqueue(Reply.ToolCall("run_python", """{"code": "print(open('f.txt').read())"}"""), Reply.Text("Read."));
            var onB = await nodeB.PostMessageAsync(session.Id, "Read f.txt.");
            Assert.IsType<RunCompleted>((await nodeB.WaitForRunEndAsync(session.Id, onB.RunId, Deadline)).Data);
            Assert.Equal(["written on A"], RunOutput.StdoutLines(RunOutput.Tool(await nodeB.EventsAsync(session.Id), onB.RunId)));
            Assert.Single(await nodeB.SessionContainersAsync(nodeB.SandboxNodeId, session.Id));
        }
        finally
        {
            await nodeB.RemoveContainersAsync(nodeA.SandboxNodeId);
        }
    }

    [Fact]
    public async Task Stopping_a_run_on_node_B_interrupts_its_code_in_node_As_kernel_and_keeps_the_variables()
    {
        await using var nodeA = await HostProcess.StartAsync(nodeB);
        try
        {
            using var apiA = await nodeA.SignInAsync();
            var session = await apiA.CreateSessionAsync("sandbox affinity");
            nodeB.Provider.Enqueue(Reply.ToolCall("run_python", """{"code": "x = 41"}"""), Reply.Text("Set."));
            var onA = await apiA.PostMessageAsync(session.Id, "Set x to 41.");
            Assert.IsType<RunCompleted>((await nodeB.WaitForRunEndAsync(session.Id, onA.RunId, Deadline)).Data);

            // Longer than the execution time limit (60 s): only an interrupt ends it in time.
            nodeB.Provider.Enqueue(Reply.ToolCall("run_python", """{"code": "import time\nopen('started', 'w').close()\ntime.sleep(600)"}"""));
            var stopped = await nodeB.PostMessageAsync(session.Id, "Wait a long time.");
            await Eventually.Until(async () => (await nodeB.Client.GetStringAsync($"/api/v1/sessions/{session.Id}/files")).Contains("\"started\"", StringComparison.Ordinal),
                Deadline, "the code runs in A's sandbox");
            var clicked = Stopwatch.GetTimestamp();
            (await nodeB.Client.PostAsync($"/api/v1/sessions/{session.Id}/runs/{stopped.RunId}/cancel", null)).EnsureSuccessStatusCode();
            Assert.IsType<RunCancelled>((await nodeB.WaitForRunEndAsync(session.Id, stopped.RunId, Deadline)).Data);

            nodeB.Provider.Enqueue(Reply.ToolCall("run_python", """{"code": "print(x + 1)"}"""), Reply.Text("Done."));
            var after = await nodeB.PostMessageAsync(session.Id, "Print x + 1.");
            Assert.IsType<RunCompleted>((await nodeB.WaitForRunEndAsync(session.Id, after.RunId, Deadline)).Data);
            var waited = Stopwatch.GetElapsedTime(clicked);

            // The kernel was free at once (not after the 60 s limit) and kept x: interrupted, not replaced.
            Assert.Equal(["42"], RunOutput.StdoutLines(RunOutput.Tool(await nodeB.EventsAsync(session.Id), after.RunId)));
            Assert.True(waited < TimeSpan.FromSeconds(30), $"The next call ran {waited.TotalSeconds:F0} s after the stop");
        }
        finally
        {
            await nodeB.RemoveContainersAsync(nodeA.SandboxNodeId);
        }
    }
}
