using Conclave.Sandbox.Contracts;
using Conclave.Sandbox.Tests.Fixtures;
using Conclave.Testing;
using Docker.DotNet.Models;

namespace Conclave.Sandbox.Tests.Execution;

public sealed class InterruptionTests(SandboxFixture fixture) : SandboxTest(fixture)
{
    private const string StartsBackgroundProcesses = """
        import subprocess
        child = subprocess.Popen(['sleep', '1000'])
        grandchild = subprocess.Popen(['sh', '-c', 'sleep 1001 & wait'])
        """;

    /// <summary>Live (not zombie) processes whose command line mentions sleep, as seen from inside the sandbox.</summary>
    private const string ListsSleepers = """
        import os
        def state(pid):
            try:
                return open(f'/proc/{pid}/stat').read().rsplit(')', 1)[1].split()[0]
            except OSError:
                return 'gone'
        sleepers = [pid for pid in os.listdir('/proc') if pid.isdigit() and state(pid) not in ('Z', 'X', 'gone')
                    and b'sleep' in open(f'/proc/{pid}/cmdline', 'rb').read()]
        print(len(sleepers))
        """;

    [DockerFact]
    public async Task An_infinite_loop_is_interrupted_by_the_timeout_and_variables_survive()
    {
        var session = NewSession();
        await RunOk(session, "y = 5");

        var result = await Run(session, "while True:\n    pass", TimeSpan.FromSeconds(2));

        Assert.Equal(ExecutionStatus.Timeout, result.Status);
        Assert.Contains("time limit of 2s", result.Error!.Value);
        Assert.InRange(result.Duration, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(10));
        Assert.False(result.KernelRestarted);
        Assert.Equal("5", (await RunOk(session, "y")).Result);
    }

    [DockerFact]
    public async Task Code_that_ignores_interrupts_gets_a_fresh_kernel_after_the_timeout()
    {
        var session = NewSession();

        var result = await Run(session, """
            import signal
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            while True:
                pass
            """, TimeSpan.FromSeconds(2));

        Assert.Equal(ExecutionStatus.Timeout, result.Status);
        Assert.True(result.KernelRestarted);
        Assert.Contains("kernel restarted; variables were lost", result.Error!.Value);
        Assert.Equal("2", (await RunOk(session, "1 + 1")).Result);
    }

    [DockerFact]
    public async Task Cancelling_an_execution_kills_the_processes_it_started()
    {
        var session = NewSession();
        await RunOk(session, "kept = 'yes'");
        var container = Fixture.ContainerOf(session);
        using var stop = new CancellationTokenSource();

        var running = Run(session, StartsBackgroundProcesses + "\nimport time\ntime.sleep(600)", ct: stop.Token);
        await Eventually.Until(async () => (await SleepersSeenByEngine(container.ContainerId)) == 2, TimeSpan.FromSeconds(30), "sleep 1000 and sleep 1001 to run");
        await stop.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running);
        Assert.Equal(0, await SleepersSeenByEngine(container.ContainerId));
        Assert.Equal("0\n", (await RunOk(session, ListsSleepers)).Stdout);
        Assert.Equal("'yes'", (await RunOk(session, "kept")).Result);
    }

    [DockerFact]
    public async Task Stopping_the_sandbox_kills_background_processes_and_keeps_files()
    {
        var session = NewSession();
        await RunOk(session, StartsBackgroundProcesses + "\nopen('note.txt', 'w').write('kept')");
        var container = Fixture.ContainerOf(session);
        await Eventually.Until(async () => (await SleepersSeenByEngine(container.ContainerId)) == 2, TimeSpan.FromSeconds(30), "sleep 1000 and sleep 1001 to run");

        await Fixture.Sandbox.StopAsync(session);

        Assert.False(await Fixture.ContainerExistsAsync(container.ContainerId));
        var after = await RunOk(session, ListsSleepers + "\nprint(open('note.txt').read())");
        Assert.Equal("0\nkept\n", after.Stdout);
        Assert.NotEqual(container.ContainerId, Fixture.ContainerOf(session).ContainerId);
    }

    /// <summary>Live processes running `sleep` according to the engine (docker top; Podman's descriptor syntax).</summary>
    private async Task<int> SleepersSeenByEngine(string containerId)
    {
        var top = await Fixture.Docker.Containers.ListProcessesAsync(containerId, new ContainerListProcessesParameters { PsArgs = "pid,state,args" });
        var state = top.Titles.IndexOf("STATE");
        var command = top.Titles.IndexOf("COMMAND");
        return top.Processes.Count(p => p[command].StartsWith("sleep", StringComparison.Ordinal) && p[state] is not ("Z" or "X"));
    }
}
