using Conclave.Deployment.Tests.Fixtures;

namespace Conclave.Deployment.Tests.Definitions;

/// <summary>deploy/compose.yaml is valid Compose (dclint: the Compose schema and its rules, warnings included).</summary>
public sealed class ComposeTests(DeploymentTools tools) : IClassFixture<DeploymentTools>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task The_compose_file_passes_the_schema_and_the_linter()
    {
        var result = await Lint(Repository.PathOf("deploy/compose.yaml"));

        Assert.True(result.ExitCode == 0, $"deploy/compose.yaml:\n{result.Tail()}");
    }

    [Fact]
    public async Task The_linter_refuses_a_compose_file_the_schema_refuses()
    {
        var broken = Path.Combine(Path.GetTempPath(), $"compose-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(broken, (await File.ReadAllTextAsync(Repository.PathOf("deploy/compose.yaml")))
            .Replace("    cap_add: [SYS_ADMIN, MKNOD]", "    cap_add: SYS_ADMIN", StringComparison.Ordinal));
        try
        {
            var result = await Lint(broken);

            Assert.NotEqual(0, result.ExitCode);
            Assert.Contains("cap_add", result.Output + result.Errors);
        }
        finally
        {
            File.Delete(broken);
        }
    }

    [Fact]
    public async Task Conclave_gets_what_a_file_system_per_session_needs_and_every_service_has_a_health_check()
    {
        var compose = await File.ReadAllTextAsync(Repository.PathOf("deploy/compose.yaml"));

        foreach (var needed in new[] { "propagation: rshared", "cap_add: [SYS_ADMIN, MKNOD]", "/dev/loop-control", "b 7:* rmw", "Conclave__Sandbox__WorkspaceHostRoot" })
        {
            Assert.Contains(needed, compose);
        }
        Assert.Equal(4, compose.Split("\n    healthcheck:").Length - 1);
    }

    private Task<ProcessResult> Lint(string file) =>
        Processes.RunAsync(tools.ComposeLinter, ["-c", Repository.PathOf("deploy/.dclintrc.yaml"), "--max-warnings", "0", "--color=false", file], Deadline);
}
