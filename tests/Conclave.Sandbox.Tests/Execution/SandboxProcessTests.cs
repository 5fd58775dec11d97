using System.Text;
using Conclave.Sandbox.Contracts;
using Conclave.Sandbox.Tests.Fixtures;

namespace Conclave.Sandbox.Tests.Execution;

/// <summary>A program the Host talks to over stdin/stdout runs in the session's container, beside its kernel.</summary>
public sealed class SandboxProcessTests(SandboxFixture fixture) : SandboxTest(fixture)
{
    private ISandboxProcesses Processes => Fixture.Sessions;

    [DockerFact]
    public async Task A_program_answers_over_its_stdin_and_stdout_from_inside_the_sessions_container()
    {
        var session = NewSession();
        var kernelHost = (await RunOk(session, "import socket; print(socket.gethostname())")).Stdout.Trim();

        await using var process = await Processes.StartAsync(session, ["python3", "-u", "-c", """
            import os, socket, sys
            for line in sys.stdin:
                print(line.strip()[::-1], socket.gethostname(), os.getcwd(), flush=True)
            """]);
        var reader = new StreamReader(process.Output, Encoding.UTF8);
        await process.Input.WriteAsync(Encoding.UTF8.GetBytes("olleh\n"));
        var answer = await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal($"hello {kernelHost} /workspace", answer);
        Assert.NotEqual(Environment.MachineName, kernelHost);
    }

    [DockerFact]
    public async Task An_empty_command_is_refused()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Processes.StartAsync(NewSession(), []));
        await Assert.ThrowsAsync<ArgumentException>(() => Processes.StartAsync(NewSession(), ["python3", "a\0b"]));
    }
}
