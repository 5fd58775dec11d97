using Conclave.Sandbox.Containers;
using Conclave.Sandbox.Contracts;
using Conclave.Sandbox.Tests.Fixtures;
using Conclave.Testing;

namespace Conclave.Sandbox.Tests.Workspaces;

/// <summary>The workspace as code in the sandbox leaves it: quota breaches and hostile symlinks.</summary>
public sealed class WorkspaceFromCodeTests(SandboxFixture fixture) : SandboxTest(fixture)
{
    [DockerFact]
    public async Task Code_writing_past_the_quota_in_many_files_is_stopped_by_the_kernel_and_earlier_files_survive()
    {
        var session = NewSession();
        await Fixture.Workspace.WriteAsync(session, "before.txt", new MemoryStream("uploaded earlier"u8.ToArray()));

        var result = await Run(session, """
            for i in range(10):
                with open(f'chunk-{i}.bin', 'wb') as f:
                    f.write(b'\1' * 10_000_000)
            """);

        Assert.Equal(ExecutionStatus.Error, result.Status);
        Assert.Equal("QuotaExceeded", result.Error!.Name);
        Assert.Contains("No space left on device", result.Error.Traceback, StringComparison.Ordinal);
        var left = await Fixture.Workspace.ListAsync(session);
        Assert.InRange(left.Sum(f => f.SizeBytes), SandboxFixture.QuotaBytes * 9 / 10, SandboxFixture.QuotaBytes + Fixture.QuotaSlackBytes);
        await using var before = await Fixture.Workspace.OpenReadAsync(session, "before.txt");
        Assert.Equal("uploaded earlier", await new StreamReader(before).ReadToEndAsync());
    }

    [DockerFact]
    public async Task Code_writing_one_file_larger_than_the_quota_is_stopped()
    {
        var session = NewSession();

        var result = await Run(session, "open('huge.bin', 'wb').write(b'\\0' * 100_000_000)");

        Assert.Equal(ExecutionStatus.Error, result.Status);
        var usage = (await Fixture.Workspace.ListAsync(session)).Sum(f => f.SizeBytes);
        Assert.True(usage <= SandboxFixture.QuotaBytes, $"workspace holds {usage} bytes");
    }

    [DockerFact]
    public async Task Files_uploaded_before_the_first_execution_are_there_and_the_warm_pool_serves_it()
    {
        var session = NewSession();
        await Fixture.Workspace.WriteAsync(session, "in/data.csv", new MemoryStream("a,b\n1,2\n3,4\n"u8.ToArray()));
        await Fixture.Workspace.WriteAsync(session, "notes.txt", new MemoryStream("hello"u8.ToArray()));
        await Eventually.Until(() => Fixture.Pool.ReadyCount > 0, TimeSpan.FromMinutes(2), "a warm container");

        var result = await RunOk(session, "import pandas as pd\nint(pd.read_csv('in/data.csv')['b'].sum()) + len(open('notes.txt').read())");
        var container = await Fixture.Docker.Containers.InspectContainerAsync(Fixture.ContainerOf(session).ContainerId);

        Assert.Equal("11", result.Result);
        // Labels are fixed at creation: a warm container keeps "pool", a cold one names its session.
        Assert.Equal(SandboxContainers.PoolSession, container.Config!.Labels[SandboxContainers.SessionLabel]);
        Assert.Equal(["in/data.csv", "notes.txt"], (await Fixture.Workspace.ListAsync(session)).Select(f => f.Path));
    }

    [DockerFact]
    public async Task A_symlink_created_by_code_cannot_be_used_to_read_or_write_host_files()
    {
        var session = NewSession();
        await RunOk(session, """
            import os
            os.symlink('/etc/passwd', 'leak')
            os.symlink('/', 'host-root')
            os.symlink('../../../../../../etc', 'up')
            """);

        await Assert.ThrowsAsync<WorkspacePathException>(() => Fixture.Workspace.OpenReadAsync(session, "leak"));
        await Assert.ThrowsAsync<WorkspacePathException>(() => Fixture.Workspace.OpenReadAsync(session, "host-root/etc/passwd"));
        await Assert.ThrowsAsync<WorkspacePathException>(() => Fixture.Workspace.OpenReadAsync(session, "up/passwd"));
        await Assert.ThrowsAsync<WorkspacePathException>(() => Fixture.Workspace.WriteAsync(session, "host-root/tmp/conclave-pwned.txt", new MemoryStream("x"u8.ToArray())));
        Assert.False(File.Exists("/tmp/conclave-pwned.txt"));
        Assert.Empty(await Fixture.Workspace.ListAsync(session));
        var tool = await Fixture.Tools.ReadFileAsync(session, "leak");
        Assert.StartsWith("error:", tool);
        Assert.DoesNotContain("root:", tool, StringComparison.Ordinal);
    }

    [DockerFact]
    public async Task Files_uploaded_through_the_api_are_visible_to_code_and_the_other_way_round()
    {
        var session = NewSession();
        await Fixture.Workspace.WriteAsync(session, "in/data.csv", new MemoryStream("a,b\n1,2\n3,4\n"u8.ToArray()));

        var result = await RunOk(session, "import pandas as pd\ndf = pd.read_csv('in/data.csv')\ndf.to_csv('out/sum.csv' if __import__('os').makedirs('out', exist_ok=True) is None else '')\nint(df['b'].sum())");
        await Fixture.Workspace.DeleteAsync(session, "in/data.csv");

        Assert.Equal("6", result.Result);
        var files = await Fixture.Workspace.ListAsync(session);
        Assert.Equal(["out/sum.csv"], files.Select(f => f.Path));
        Assert.Equal("False", (await RunOk(session, "import os\nos.path.exists('in/data.csv')")).Result);
    }
}
