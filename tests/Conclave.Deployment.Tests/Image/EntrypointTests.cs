using System.Diagnostics;
using Conclave.Deployment.Tests.Fixtures;
using Conclave.Testing;

namespace Conclave.Deployment.Tests.Image;

/// <summary>A bare `podman run` of the image (no SYS_ADMIN, no loop devices, no shared workspace folder) is never silently unlimited.</summary>
[Collection(ImageCollection.Name)]
public sealed class EntrypointTests(ConclaveImage image) : IAsyncLifetime
{
    private ScriptedOpenAiServer _provider = null!;

    public async Task InitializeAsync() => _provider = await ScriptedOpenAiServer.StartAsync();

    public async Task DisposeAsync() => await _provider.DisposeAsync();

    [Fact]
    public async Task Without_the_workspace_options_the_entrypoint_says_what_is_missing_and_conclave_runs_unprivileged()
    {
        await using var container = await ConclaveContainer.RunAsync(image, new ContainerOptions
        {
            ProviderBaseUrl = _provider.BaseUrl,
            WithWorkspaceOptions = false,
        });
        await container.WaitReadyAsync(Stopwatch.GetTimestamp(), TimeSpan.FromMinutes(4));

        var logs = await container.LogsAsync();
        Assert.Contains("workspaces are PLAIN FOLDERS", logs);
        Assert.Contains("CAP_SYS_ADMIN (--cap-add SYS_ADMIN)", logs);
        Assert.Contains("/dev/loop-control (--device /dev/loop-control)", logs);
        Assert.Contains("is not a mount of a host folder", logs);
        Assert.Contains("sandboxes are REFUSED", logs);
        Assert.Contains("running Conclave as user conclave (uid 10001", logs);
        var processes = await Podman.RunAsync(["top", container.Name, "user", "comm"]);
        Assert.Contains(processes.Split('\n'), line => line.Contains("Conclave.Host", StringComparison.Ordinal) && line.StartsWith("conclave", StringComparison.Ordinal));
        Assert.Contains(processes.Split('\n'), line => line.Contains("postgres", StringComparison.Ordinal) && line.StartsWith("postgres", StringComparison.Ordinal));
    }
}
