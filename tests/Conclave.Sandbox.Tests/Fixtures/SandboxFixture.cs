using Conclave.Sandbox.Containers;
using Conclave.Sandbox.Contracts;
using Conclave.Sandbox.Lifecycle;
using Conclave.Sandbox.Workspaces;
using Conclave.Testing;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Conclave.Sandbox.Tests.Fixtures;

/// <summary>
/// One started sandbox module (real containers through the real Docker API) shared by the tests of
/// the "Sandbox" collection, with its own node id and workspace root so nothing else's containers
/// are touched. A secret is put in this process's environment before any container exists.
/// </summary>
public sealed class SandboxFixture : IAsyncLifetime
{
    public const long QuotaBytes = 20L * 1024 * 1024;
    public const int PoolSize = 2;
    public const string SecretName = "CONCLAVE_TEST_SECRET";
    public static readonly string Secret = "s3cret-" + Guid.NewGuid().ToString("N");

    private IHost? _host;

    public SandboxFixture()
    {
        Environment.SetEnvironmentVariable(SecretName, Secret);
        NodeId = "tests-" + Guid.NewGuid().ToString("N")[..12];
        WorkspaceRoot = Path.Combine(Path.GetTempPath(), "conclave-sandbox-tests", NodeId);
    }

    public string NodeId { get; }

    public string WorkspaceRoot { get; }

    private IServiceProvider Services => _host?.Services ?? throw new InvalidOperationException(DockerEndpoint.Unavailable ?? "The fixture did not start.");

    public ISandbox Sandbox => Services.GetRequiredService<ISandbox>();

    public IWorkspace Workspace => Services.GetRequiredService<IWorkspace>();

    public ISandboxTools Tools => Services.GetRequiredService<ISandboxTools>();

    internal SessionSandboxes Sessions => Services.GetRequiredService<SessionSandboxes>();

    internal SandboxContainers Containers => Services.GetRequiredService<SandboxContainers>();

    internal WarmPool Pool => Services.GetRequiredService<WarmPool>();

    internal SandboxJanitor Janitor => Services.GetRequiredService<SandboxJanitor>();

    internal WorkspaceVolumes Volumes => Services.GetRequiredService<WorkspaceVolumes>();

    public ISandboxStatus Status => Services.GetRequiredService<ISandboxStatus>();

    /// <summary>How far past the quota the kernel lets code write (the file system's metadata rounding).</summary>
    internal long QuotaSlackBytes => Volumes.QuotaSlackBytes;

    internal IDockerClient Docker => Containers.Docker;

    public async Task InitializeAsync()
    {
        if (DockerEndpoint.Unavailable is not null)
        {
            return;
        }
        _host = SandboxHost.Build(NodeId, WorkspaceRoot, new Dictionary<string, string?>
        {
            ["Conclave:Sandbox:WorkspaceQuotaBytes"] = QuotaBytes.ToString(),
            ["Conclave:Sandbox:WarmPoolSize"] = PoolSize.ToString(),
            ["Conclave:Sandbox:ExecutionTimeout"] = "00:01:00",
            ["Conclave:Sandbox:MaxOutputBytes"] = "16384",
            ["Conclave:Sandbox:JanitorInterval"] = "00:00:02",
        });
        await RemoveLeftoversOfEarlierRunsAsync();
        await _host.StartAsync();
        await Janitor.FirstPass.WaitAsync(TimeSpan.FromSeconds(60));
        await Eventually.Until(() => Pool.ReadyCount == PoolSize, TimeSpan.FromMinutes(2), "the warm pool to fill");
    }

    /// <summary>
    /// Every run has its own node id, so a crashed run's containers are nobody's orphans: remove the
    /// exited ones of test nodes (running ones may belong to a run in progress elsewhere).
    /// </summary>
    private async Task RemoveLeftoversOfEarlierRunsAsync()
    {
        var managed = await Docker.Containers.ListContainersAsync(new ContainersListParameters
        {
            All = true,
            Filters = new Dictionary<string, IDictionary<string, bool>>
            {
                ["label"] = new Dictionary<string, bool> { [$"{SandboxContainers.ManagedLabel}=true"] = true },
                ["status"] = new Dictionary<string, bool> { ["exited"] = true, ["created"] = true },
            },
        });
        foreach (var container in managed.Where(c => c.Labels.TryGetValue(SandboxContainers.NodeLabel, out var node)
                     && node.StartsWith("tests-", StringComparison.Ordinal)))
        {
            await Containers.RemoveAsync(Guid.Empty, container.ID);
        }
    }

    /// <summary>The containers of this fixture's node, as the engine lists them.</summary>
    internal async Task<IList<ContainerListResponse>> NodeContainersAsync() =>
        await Docker.Containers.ListContainersAsync(new ContainersListParameters
        {
            All = true,
            Filters = new Dictionary<string, IDictionary<string, bool>>
            {
                ["label"] = new Dictionary<string, bool> { [$"{SandboxContainers.NodeLabel}={NodeId}"] = true },
            },
        });

    internal SandboxContainer ContainerOf(Guid sessionId) =>
        Sessions.Active.Single(a => a.SessionId == sessionId).Container;

    internal async Task<bool> ContainerExistsAsync(string containerId)
    {
        try
        {
            await Docker.Containers.InspectContainerAsync(containerId);
            return true;
        }
        catch (DockerContainerNotFoundException)
        {
            return false;
        }
    }

    public async Task DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.StopAsync();
            _host.Dispose();
        }
        if (Directory.Exists(WorkspaceRoot))
        {
            Directory.Delete(WorkspaceRoot, recursive: true);
        }
    }
}

[CollectionDefinition(Name)]
public sealed class SandboxCollection : ICollectionFixture<SandboxFixture>
{
    public const string Name = "Sandbox";
}

internal static class SandboxHost
{
    /// <summary>A host with just the sandbox module, configured like the real Host (environment first, then overrides).</summary>
    public static IHost Build(string nodeId, string workspaceRoot, IDictionary<string, string?>? overrides = null)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddEnvironmentVariables();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Conclave:Sandbox:NodeId"] = nodeId,
            ["Conclave:Sandbox:WorkspaceRoot"] = workspaceRoot,
        });
        if (overrides is not null)
        {
            builder.Configuration.AddInMemoryCollection(overrides);
        }
        builder.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSandboxModule(builder.Configuration);
        return builder.Build();
    }
}

/// <summary>Base of the collection's tests: sessions a test creates are removed after it.</summary>
[Collection(SandboxCollection.Name)]
public abstract class SandboxTest(SandboxFixture fixture) : IAsyncLifetime
{
    private readonly List<Guid> _sessions = [];

    protected SandboxFixture Fixture { get; } = fixture;

    protected Guid NewSession()
    {
        var id = Guid.NewGuid();
        _sessions.Add(id);
        return id;
    }

    protected Task<ExecutionResult> Run(Guid sessionId, string code, TimeSpan? timeout = null, CancellationToken ct = default) =>
        Fixture.Sandbox.ExecuteAsync(sessionId, code, timeout, ct);

    protected async Task<ExecutionResult> RunOk(Guid sessionId, string code)
    {
        var result = await Run(sessionId, code);
        Assert.True(result.Status == ExecutionStatus.Ok, $"Expected ok, got {result.Status}: {result.Error}\n{result.Stdout}\n{result.Stderr}");
        return result;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (DockerEndpoint.Unavailable is not null)
        {
            return;
        }
        foreach (var id in _sessions)
        {
            await Fixture.Sandbox.RemoveSessionAsync(id);
        }
    }
}
