using Conclave.Sandbox.Contracts;
using Conclave.Sandbox.Tests.Fixtures;
using Conclave.Sandbox.Workspaces.Native;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Conclave.Sandbox.Tests.Rootless;

/// <summary>
/// Issue 18: rootless Podman on cgroup v1 (this kind of machine) creates containers without memory, pids
/// and CPU limits and says nothing. Against such an engine (scripts/podman-rootless.sh), with the Host as
/// root, the module refuses every sandbox, unless the operator allows unlimited ones.
/// </summary>
public sealed class RootlessEngineTests
{
    private const string WritesMarker = "open('/workspace/marker.txt', 'w').write('code ran')\nprint('wrote the marker')";

    [RootlessFact]
    public async Task A_rootless_engine_on_cgroup_v1_gets_no_sandbox_and_no_code_runs()
    {
        await using var engine = await RootlessEngine.StartAsync(allowUnlimited: false);
        await AssertRootlessOnCgroupV1(engine);
        var session = Guid.NewGuid();

        var refused = await Assert.ThrowsAsync<SandboxLimitsNotEnforcedException>(() => engine.Sandbox.ExecuteAsync(session, WritesMarker, null));
        var answer = await engine.Tools.RunPythonAsync(session, WritesMarker);
        var readiness = await engine.ReadinessAsync();

        foreach (var words in new[] { "memory", "pids", "cpu", "file size", "rootless Podman on cgroup v1", "AllowUnlimitedSandboxes=true" })
        {
            Assert.Contains(words, refused.Message, StringComparison.Ordinal);
        }
        var status = engine.Status.Current;
        Assert.Equal(SandboxLimitsState.Refused, status.State);
        Assert.Equal(refused.Message, status.Summary);
        Assert.Contains("rootless", status.Engine, StringComparison.Ordinal);
        Assert.Equal(HealthStatus.Unhealthy, readiness.Status);
        Assert.Equal(status.Summary, readiness.Description);
        Assert.StartsWith("error: ", answer, StringComparison.Ordinal);
        Assert.Contains(refused.Message, answer, StringComparison.Ordinal);
        Assert.Empty(await engine.Workspace.ListAsync(session));
        Assert.Empty(await engine.ContainersAsync());
    }

    [RootlessFact]
    public async Task With_AllowUnlimitedSandboxes_the_same_code_runs_under_a_warning()
    {
        await using var engine = await RootlessEngine.StartAsync(allowUnlimited: true);
        await AssertRootlessOnCgroupV1(engine);
        var session = Guid.NewGuid();
        await engine.Workspace.WriteAsync(session, "data/input.csv", new MemoryStream("a,b\n1,2\n"u8.ToArray()));

        var result = await engine.Sandbox.ExecuteAsync(session, WritesMarker + "\nprint(open('data/input.csv').read().splitlines()[1])", null);
        var readiness = await engine.ReadinessAsync();

        Assert.True(result.Status == ExecutionStatus.Ok, $"{result.Status}: {result.Error}\n{result.Stderr}");
        Assert.Equal("wrote the marker\n1,2\n", result.Stdout);
        using (var marker = new StreamReader(await engine.Workspace.OpenReadAsync(session, "marker.txt")))
        {
            Assert.Equal("code ran", await marker.ReadToEndAsync());
        }
        var status = engine.Status.Current;
        Assert.Equal(SandboxLimitsState.Unlimited, status.State);
        Assert.StartsWith("WARNING", status.Summary, StringComparison.Ordinal);
        Assert.Contains("rootless", status.Summary, StringComparison.Ordinal);
        var missing = status.Missing.Select(m => m[..m.IndexOf(" (", StringComparison.Ordinal)]).ToList();
        Assert.Contains("memory", missing);
        Assert.Contains("pids", missing);
        Assert.Contains("cpu", missing);
        Assert.Contains("file size", missing); // rootless Podman's Docker API drops ulimits
        Assert.DoesNotContain(missing, m => m.StartsWith("workspace", StringComparison.Ordinal)); // the Host, as root, still mounts it
        Assert.Equal(WorkspaceIsolation.FileSystemPerSession, status.Isolation);
        Assert.Equal(HealthStatus.Degraded, readiness.Status);
        Assert.Equal(status.Summary, readiness.Description);

        await engine.Sandbox.RemoveSessionAsync(session);
        Assert.Empty(await engine.ContainersAsync());
    }

    [RootlessFact]
    public async Task Only_the_engines_group_may_pass_through_the_workspace_root()
    {
        await using var engine = await RootlessEngine.StartAsync(allowUnlimited: true);
        var session = Guid.NewGuid();
        Assert.Equal(ExecutionStatus.Ok, (await engine.Sandbox.ExecuteAsync(session, "1", null)).Status);

        var socketGroup = Mode(new Uri(RootlessEngine.Endpoint!).LocalPath).Gid;

        Assert.Equal((0b111_001_000, socketGroup), Mode(engine.WorkspaceRoot));
        Assert.Equal((0b111_001_000, socketGroup), Mode(Path.Combine(engine.WorkspaceRoot, "mounts")));
        Assert.Equal(0b111_000_000, Mode(Path.Combine(engine.WorkspaceRoot, "volumes")).Mode);
        Assert.Equal(0b111_000_000, Mode(Path.Combine(engine.WorkspaceRoot, "sessions")).Mode);
        await engine.Sandbox.RemoveSessionAsync(session);
    }

    private static async Task AssertRootlessOnCgroupV1(RootlessEngine engine)
    {
        var facts = await engine.FactsAsync();
        Assert.True(facts.Rootless, $"{RootlessEngine.Variable} names an engine that is not rootless: {facts.Description}");
        Assert.True(facts.CgroupVersion == "1", $"These tests expect cgroup v1 (where a rootless engine applies no cgroup limits): {facts.Description}");
    }

    private static (int Mode, int Gid) Mode(string path)
    {
        using var handle = LinuxFiles.Open(path, LinuxFiles.OPath);
        var status = LinuxFiles.Stat(handle);
        return (status.Mode & 0b111_111_111, status.Gid);
    }
}
