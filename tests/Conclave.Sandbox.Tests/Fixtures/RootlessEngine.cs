using Conclave.Sandbox.Containers;
using Conclave.Sandbox.Contracts;
using Docker.DotNet.Models;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace Conclave.Sandbox.Tests.Fixtures;

/// <summary>
/// A fact that needs the rootless engine of scripts/podman-rootless.sh. Skipped only when
/// <c>CONCLAVE_ROOTLESS_DOCKER_ENDPOINT</c> is unset; test.sh always sets it, and an endpoint that
/// is set but does not answer fails the test.
/// </summary>
public sealed class RootlessFactAttribute : FactAttribute
{
    public RootlessFactAttribute()
    {
        if (RootlessEngine.Endpoint is null)
        {
            Skip = $"{RootlessEngine.Variable} is not set: no rootless engine to test against (scripts/podman-rootless.sh install, start, image; then its env).";
        }
    }
}

/// <summary>
/// The sandbox module, alone in a host with its own node id and workspace root, pointed at the rootless
/// engine. Every test starts its own (the configuration is what the tests vary).
/// </summary>
internal sealed class RootlessEngine : IAsyncDisposable
{
    public const string Variable = "CONCLAVE_ROOTLESS_DOCKER_ENDPOINT";

    private readonly IHost _host;

    private RootlessEngine(IHost host, string nodeId, string workspaceRoot)
    {
        _host = host;
        NodeId = nodeId;
        WorkspaceRoot = workspaceRoot;
    }

    public static string? Endpoint => Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } endpoint ? endpoint : null;

    public string NodeId { get; }

    public string WorkspaceRoot { get; }

    public ISandbox Sandbox => _host.Services.GetRequiredService<ISandbox>();

    public ISandboxTools Tools => _host.Services.GetRequiredService<ISandboxTools>();

    public IWorkspace Workspace => _host.Services.GetRequiredService<IWorkspace>();

    public ISandboxStatus Status => _host.Services.GetRequiredService<ISandboxStatus>();

    internal SandboxContainers Containers => _host.Services.GetRequiredService<SandboxContainers>();

    public static async Task<RootlessEngine> StartAsync(bool allowUnlimited)
    {
        var nodeId = "tests-rootless-" + Guid.NewGuid().ToString("N")[..12];
        var workspaceRoot = Path.Combine(Path.GetTempPath(), "conclave-rootless-tests", nodeId);
        Directory.CreateDirectory(workspaceRoot);
        // Podman reads the profile from its path as the engine's user, who may not reach this checkout
        // (a clone under /root): the copy sits next to the workspaces, which it must reach anyway.
        var seccomp = Path.Combine(Path.GetDirectoryName(workspaceRoot)!, nodeId + "-seccomp.json");
        File.Copy(Path.Combine(AppContext.BaseDirectory, "sandbox", "seccomp.json"), seccomp);
        var _host = SandboxHost.Build(nodeId, workspaceRoot, new Dictionary<string, string?>
        {
            ["Conclave:Sandbox:DockerEndpoint"] = Endpoint ?? throw new InvalidOperationException($"{Variable} is not set."),
            ["Conclave:Sandbox:SeccompProfile"] = seccomp,
            ["Conclave:Sandbox:AllowUnlimitedSandboxes"] = allowUnlimited ? "true" : "false",
            ["Conclave:Sandbox:WarmPoolSize"] = "0",
            ["Conclave:Sandbox:WorkspaceQuotaBytes"] = (20L * 1024 * 1024).ToString(),
        });
        await _host.StartAsync();
        return new RootlessEngine(_host, nodeId, workspaceRoot);
    }

    public Task<EngineFacts> FactsAsync() => Containers.EngineAsync(CancellationToken.None);

    /// <summary>The "sandbox" entry of the readiness checks, as /health/ready computes it.</summary>
    public async Task<HealthReportEntry> ReadinessAsync()
    {
        var report = await _host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(check => check.Tags.Contains("ready"));
        return report.Entries["sandbox"];
    }

    /// <summary>The containers of this node, as the engine lists them.</summary>
    public async Task<IList<ContainerListResponse>> ContainersAsync() =>
        await Containers.Docker.Containers.ListContainersAsync(new ContainersListParameters
        {
            All = true,
            Filters = new Dictionary<string, IDictionary<string, bool>>
            {
                ["label"] = new Dictionary<string, bool> { [$"{SandboxContainers.NodeLabel}={NodeId}"] = true },
            },
        });

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
        File.Delete(Path.Combine(Path.GetDirectoryName(WorkspaceRoot)!, NodeId + "-seccomp.json"));
        if (Directory.Exists(WorkspaceRoot))
        {
            Directory.Delete(WorkspaceRoot, recursive: true);
        }
    }
}
