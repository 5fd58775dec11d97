using Conclave.Deployment.Tests.Fixtures;

namespace Conclave.Deployment.Tests.Definitions;

/// <summary>The validators (scripts/deploy-tools.sh installs them from npm once), for one test class.</summary>
public sealed class DeploymentTools : IAsyncLifetime
{
    public string ActionValidator { get; private set; } = "";

    public string ComposeLinter { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var exports = Repository.Exports((await Repository.ScriptAsync("deploy-tools.sh", TimeSpan.FromMinutes(5))).Output);
        ActionValidator = exports["CONCLAVE_ACTION_VALIDATOR"];
        ComposeLinter = exports["CONCLAVE_DCLINT"];
    }

    public Task DisposeAsync() => Task.CompletedTask;
}
