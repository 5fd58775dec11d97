using Conclave.Deployment.Tests.Fixtures;

namespace Conclave.Deployment.Tests.Definitions;

/// <summary>The GitHub workflows are valid as GitHub reads them (@action-validator/cli 0.6.0).</summary>
public sealed class WorkflowTests(DeploymentTools tools) : IClassFixture<DeploymentTools>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(1);

    public static TheoryData<string> Workflows() => new(WorkflowFiles());

    private static List<string> WorkflowFiles() =>
        Directory.EnumerateFiles(Repository.PathOf(".github/workflows")).Select(Path.GetFileName).OfType<string>().Order().ToList();

    [Theory]
    [MemberData(nameof(Workflows))]
    public async Task The_workflow_passes_the_validator(string workflow)
    {
        var result = await Processes.RunAsync(tools.ActionValidator, [Repository.PathOf($".github/workflows/{workflow}")], Deadline);

        Assert.True(result.ExitCode == 0, $"{workflow} is not a valid workflow:\n{result.Tail()}");
    }

    [Fact]
    public void There_is_a_ci_and_a_release_workflow() =>
        Assert.Equal(["ci.yml", "release.yml"], WorkflowFiles());

    [Fact]
    public async Task The_validator_refuses_a_workflow_with_a_misspelt_key()
    {
        // The check above means something only if the validator really fails on what GitHub refuses.
        var broken = Path.Combine(Path.GetTempPath(), $"broken-{Guid.NewGuid():N}.yml");
        await File.WriteAllTextAsync(broken, (await File.ReadAllTextAsync(Repository.PathOf(".github/workflows/ci.yml")))
            .Replace("    steps:", "    step:", StringComparison.Ordinal));
        try
        {
            var result = await Processes.RunAsync(tools.ActionValidator, [broken], Deadline);

            Assert.NotEqual(0, result.ExitCode);
            Assert.Contains("Additional property 'step' is not allowed", result.Output + result.Errors);
        }
        finally
        {
            File.Delete(broken);
        }
    }
}
