using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Conclave.Sandbox.Contracts;
using Conclave.Sandbox.Execution;
using Conclave.Sandbox.Telemetry;
using Conclave.Sandbox.Workspaces;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Conclave.Sandbox.Containers;

/// <summary>
/// Creates, starts and removes locked-down sandbox containers through the Docker Engine API, and
/// knows every container this process owns (so anything else labelled for this node is an orphan).
/// </summary>
internal sealed class SandboxContainers : IAsyncDisposable
{
    public const string ManagedLabel = "conclave.managed";
    public const string NodeLabel = "conclave.node";
    public const string SessionLabel = "conclave.session";
    public const string SandboxLabel = "conclave.sandbox";
    public const string PoolSession = "pool";
    private const string NamePrefix = "conclave-sandbox-";

    private readonly SandboxOptions _options;
    private readonly WorkspaceVolumes _volumes;
    private readonly SandboxStatus _status;
    private readonly ILogger<SandboxContainers> _logger;
    private readonly ILogger _bridgeLogger;
    private readonly ConcurrentDictionary<Guid, string> _owned = new();

    // Starting a kernel is CPU-bound (about a CPU-second): more starts at once than cores only makes
    // every one of them slower, and late ones would miss their start timeout.
    private readonly SemaphoreSlim _startGate = new(Math.Max(2, Environment.ProcessorCount));

    private readonly Lazy<string> _seccompProfile;
    private Task<EngineFacts>? _engineProbe;

    public SandboxContainers(IOptions<SandboxOptions> options, WorkspaceVolumes volumes, SandboxStatus status, ILoggerFactory loggerFactory)
    {
        _options = options.Value;
        _volumes = volumes;
        _status = status;
        _logger = loggerFactory.CreateLogger<SandboxContainers>();
        _bridgeLogger = loggerFactory.CreateLogger<KernelBridge>();
        Docker = new DockerClientBuilder().WithEndpoint(new Uri(_options.DockerEndpoint)).Build();
        _seccompProfile = new(() => File.ReadAllText(_options.SeccompProfile!));
    }

    public IDockerClient Docker { get; }

    /// <summary>What the engine is (asked once; a failed ask is asked again next time).</summary>
    public async Task<EngineFacts> EngineAsync(CancellationToken ct)
    {
        var probe = Volatile.Read(ref _engineProbe);
        if (probe is null || probe.IsFaulted || probe.IsCanceled)
        {
            probe = EngineFacts.ProbeAsync(Docker, new Uri(_options.DockerEndpoint), CancellationToken.None);
            Volatile.Write(ref _engineProbe, probe);
        }
        return await probe.WaitAsync(ct);
    }

    /// <summary>Containers this process created and has not removed yet (starting ones included).</summary>
    public int OwnedCount => _owned.Count;

    public bool Owns(Guid sandboxId) => _owned.ContainsKey(sandboxId);

    /// <summary>
    /// Creates and starts a container with <paramref name="volume"/> at /workspace, attaches to the kernel
    /// bridge, checks the limits it reports (<see cref="SandboxLimits"/>) and waits until its kernel is up.
    /// </summary>
    /// <exception cref="SandboxLimitsNotEnforcedException">The engine did not enforce a limit (and unlimited sandboxes are not allowed).</exception>
    public async Task<SandboxContainer> StartAsync(Guid sandboxId, WorkspaceVolume volume, Guid? sessionId, CancellationToken ct)
    {
        if (_status.RecentRefusal() is { } refusal)
        {
            throw new SandboxLimitsNotEnforcedException(refusal);
        }
        var name = NamePrefix + sandboxId.ToString("N");
        if (!_owned.TryAdd(sandboxId, name))
        {
            throw new InvalidOperationException($"Sandbox {sandboxId} already exists.");
        }
        try
        {
            await _startGate.WaitAsync(ct);
        }
        catch (OperationCanceledException)
        {
            _owned.TryRemove(sandboxId, out _);
            throw;
        }
        try
        {
            return await StartGatedAsync(sandboxId, name, volume, sessionId, ct);
        }
        finally
        {
            _startGate.Release();
        }
    }

    /// <summary>Starts <paramref name="command"/> in a running container (its user, limits and /workspace) with stdin and output attached.</summary>
    public async Task<MultiplexedStream> ExecAsync(SandboxContainer container, IReadOnlyList<string> command, CancellationToken ct)
    {
        var exec = await Docker.Exec.CreateContainerExecAsync(
            container.ContainerId,
            new ContainerExecCreateParameters
            {
                AttachStdin = true,
                AttachStdout = true,
                AttachStderr = true,
                Cmd = [.. command],
                WorkingDir = "/workspace",
            },
            ct);
        return await Docker.Exec.StartContainerExecAsync(exec.ID, new ContainerExecStartParameters(), ct);
    }

    private async Task<SandboxContainer> StartGatedAsync(Guid sandboxId, string name, WorkspaceVolume volume, Guid? sessionId, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        string? containerId = null;
        KernelBridge? bridge = null;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(_options.StartTimeout);
        try
        {
            var facts = await EngineAsync(deadline.Token);
            _status.Engine = facts.Description;
            // From here code can write anything into the volume: the Host never copies its tree again.
            _volumes.MarkUsedByCode(volume);
            if (facts.Rootless)
            {
                _volumes.OpenToRootlessEngine(volume, _options.DockerEndpoint);
            }
            var created = await Docker.Containers.CreateContainerAsync(Describe(name, sandboxId, volume, sessionId, facts), deadline.Token);
            containerId = created.ID;
            var stream = await Docker.Containers.AttachContainerAsync(
                containerId,
                new ContainerAttachParameters { Stream = true, Stdin = true, Stdout = true, Stderr = true },
                deadline.Token);
            bridge = new KernelBridge(stream, name, _bridgeLogger);
            await Docker.Containers.StartContainerAsync(containerId, new ContainerStartParameters(), deadline.Token);
            var limits = await bridge.WaitHelloAsync(deadline.Token);
            if (_status.Record(SandboxLimits.Check(limits, Wanted()), facts, name) is { } refusal)
            {
                throw new SandboxLimitsNotEnforcedException(refusal);
            }
            await bridge.WaitReadyAsync(deadline.Token);
            var container = new SandboxContainer(sandboxId, containerId, name, bridge, volume) { SessionId = sessionId };
            Log.ContainerStarted(_logger, name, sessionId, sessionId is null ? "warm" : "cold", clock.ElapsedMilliseconds);
            return container;
        }
        catch (Exception e)
        {
            if (bridge is not null)
            {
                await bridge.DisposeAsync();
            }
            await RemoveAsync(sandboxId, containerId ?? name);
            if (ct.IsCancellationRequested)
            {
                throw new OperationCanceledException("Starting the sandbox was cancelled.", e, ct);
            }
            throw e switch
            {
                SandboxUnavailableException or SandboxLimitsNotEnforcedException => e,
                OperationCanceledException => new SandboxUnavailableException($"The sandbox did not start within {_options.StartTimeout}.", e),
                DockerApiException { StatusCode: HttpStatusCode.NotFound } => new SandboxUnavailableException(
                    $"The sandbox image '{_options.Image}' is missing: build it with scripts/sandbox-image.sh (or deploy/sandbox/Containerfile).", e),
                _ => new SandboxUnavailableException($"The container engine at {_options.DockerEndpoint} could not start a sandbox: {e.Message}", e),
            };
        }
    }

    /// <summary>Removes the container by force (SIGKILL to everything in it); a missing container is fine.</summary>
    public async Task RemoveAsync(Guid sandboxId, string containerIdOrName)
    {
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                    await Docker.Containers.RemoveContainerAsync(containerIdOrName, new ContainerRemoveParameters { Force = true, RemoveVolumes = true }, timeout.Token);
                    return;
                }
                catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.InternalServerError && attempt < 3)
                {
                    // Podman refuses a forced remove of a container that stops at that very moment
                    // ("container state improper"); once stopped, the next attempt succeeds.
                }
            }
        }
        catch (DockerContainerNotFoundException)
        {
        }
        catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
        }
        catch (Exception e)
        {
            Log.RemoveFailed(_logger, e, containerIdOrName);
        }
        finally
        {
            _owned.TryRemove(sandboxId, out _);
        }
    }

    /// <summary>Removes first, then closes the bridge: closing stdin first makes the container stop
    /// by itself, which races the forced remove.</summary>
    public async Task RemoveAsync(SandboxContainer container)
    {
        await RemoveAsync(container.SandboxId, container.ContainerId);
        await container.Bridge.DisposeAsync();
    }

    /// <summary>Gives a claimed warm container a name that shows its session (labels cannot change).</summary>
    public async Task NameAfterSessionAsync(SandboxContainer container, Guid sessionId)
    {
        try
        {
            await Docker.Containers.RenameContainerAsync(
                container.ContainerId,
                new ContainerRenameParameters { NewName = $"{NamePrefix}{sessionId:N}-{container.SandboxId.ToString("N")[..8]}" },
                CancellationToken.None);
        }
        catch (Exception e)
        {
            _logger.LogDebug(e, "Could not rename {ContainerName}", container.Name);
        }
    }

    /// <summary>One snapshot of a container's resource use (memory, pids, CPU).</summary>
    public async Task<ContainerStatsResponse?> StatsAsync(string containerId, CancellationToken ct)
    {
        var snapshot = new LastReport<ContainerStatsResponse>();
        await Docker.Containers.GetContainerStatsAsync(containerId, new ContainerStatsParameters { Stream = false, OneShot = true }, snapshot, ct);
        return snapshot.Value;
    }

    /// <summary>Keeps the report synchronously (Progress&lt;T&gt; would post it to the thread pool, after the await).</summary>
    private sealed class LastReport<T> : IProgress<T>
    {
        public T? Value { get; private set; }

        public void Report(T value) => Value = value;
    }

    /// <summary>
    /// Removes containers labelled for this node that this process does not own: leftovers of a
    /// previous process, or of a session that was removed while its container was being created.
    /// </summary>
    public Task<int> RemoveOrphansAsync(CancellationToken ct) => RemoveLabelledAsync(_options.NodeId, ct);

    /// <summary>Removes every container labelled for another node, one that is gone (ADR 0015).</summary>
    public Task<int> RemoveLeftoversOfAsync(string nodeId, CancellationToken ct) =>
        nodeId == _options.NodeId ? throw new ArgumentException("This node is not gone.", nameof(nodeId)) : RemoveLabelledAsync(nodeId, ct);

    private async Task<int> RemoveLabelledAsync(string nodeId, CancellationToken ct)
    {
        var listed = await Docker.Containers.ListContainersAsync(new ContainersListParameters
        {
            All = true,
            Filters = new Dictionary<string, IDictionary<string, bool>>
            {
                ["label"] = new Dictionary<string, bool> { [$"{ManagedLabel}=true"] = true, [$"{NodeLabel}={nodeId}"] = true },
            },
        }, ct);
        var removed = 0;
        foreach (var container in listed)
        {
            // Filters are applied by the engine, but check again: a wrong filter must not kill others' containers.
            if (container.Labels is null
                || !container.Labels.TryGetValue(NodeLabel, out var node) || node != nodeId
                || !container.Labels.TryGetValue(ManagedLabel, out var managed) || managed != "true")
            {
                continue;
            }
            if (container.Labels.TryGetValue(SandboxLabel, out var label) && Guid.TryParse(label, out var sandboxId) && _owned.ContainsKey(sandboxId))
            {
                continue;
            }
            try
            {
                await Docker.Containers.RemoveContainerAsync(container.ID, new ContainerRemoveParameters { Force = true, RemoveVolumes = true }, ct);
                removed++;
                Log.OrphanRemoved(_logger, container.Names?.FirstOrDefault() ?? container.ID, container.Labels.TryGetValue(SessionLabel, out var session) ? session : "?");
            }
            catch (DockerContainerNotFoundException)
            {
            }
        }
        return removed;
    }

    private SandboxLimits.Wanted Wanted() => new(
        _options.MemoryBytes, _options.PidsLimit, _options.NanoCpus, _options.WorkspaceQuotaBytes,
        _volumes.QuotaEnforcedByKernel ? _options.WorkspaceQuotaBytes + _options.WorkspaceMaxEntries * 256 + _volumes.QuotaSlackBytes : null,
        _options.WorkspaceNoExec);

    /// <summary>
    /// Podman reads a seccomp profile from a path on its own machine; Docker takes the profile's content.
    /// </summary>
    private string SeccompOption(EngineFacts facts) =>
        facts.IsPodman ? $"seccomp={_options.SeccompProfile}" : $"seccomp={_seccompProfile.Value}";

    /// <summary>
    /// Each workspace's files belong to its own host uid, and its sandbox runs as that uid, so process
    /// limits and signals never cross sandboxes. A rootless engine maps only a small uid range: there the
    /// sandbox runs as nobody inside its user namespace.
    /// </summary>
    private static string UserOf(WorkspaceVolume volume, EngineFacts facts) =>
        facts.Rootless || volume.OwnerUid <= 0 ? "65534:65534" : $"{volume.OwnerUid}:{volume.OwnerUid}";

    private CreateContainerParameters Describe(string name, Guid sandboxId, WorkspaceVolume volume, Guid? sessionId, EngineFacts facts) => new()
    {
        Name = name,
        Image = _options.Image,
        User = UserOf(volume, facts),
        WorkingDir = "/workspace",
        // Nothing from the Host's environment: only what the kernel needs.
        Env = ["HOME=/tmp", "MPLBACKEND=Agg", "USER=sandbox", "LOGNAME=sandbox"],
        AttachStdin = true,
        AttachStdout = true,
        AttachStderr = true,
        OpenStdin = true,
        // stdin closes when the Host detaches (it stopped or died): the bridge then exits.
        StdinOnce = true,
        Tty = false,
        NetworkDisabled = true,
        Labels = new Dictionary<string, string>
        {
            [ManagedLabel] = "true",
            [NodeLabel] = _options.NodeId,
            [SessionLabel] = sessionId?.ToString("N") ?? PoolSession,
            [SandboxLabel] = sandboxId.ToString("N"),
        },
        HostConfig = new HostConfig
        {
            NetworkMode = "none",
            ReadonlyRootfs = true,
            CapDrop = ["ALL"],
            SecurityOpt = ["no-new-privileges", SeccompOption(facts)],
            Memory = _options.MemoryBytes,
            MemorySwap = _options.MemoryBytes,
            NanoCPUs = _options.NanoCpus,
            PidsLimit = _options.PidsLimit,
            IpcMode = "private",
            // /var/tmp and /run are mounted read-only so that, like on Docker, only /workspace and /tmp
            // (and the private, size-limited /dev/shm) are writable: Podman would put writable tmpfs there.
            Tmpfs = new Dictionary<string, string>
            {
                ["/tmp"] = $"rw,nosuid,nodev,noexec,size={_options.TmpfsSizeBytes}",
                ["/var/tmp"] = "ro,nosuid,nodev,noexec,size=4k",
                ["/run"] = "ro,nosuid,nodev,noexec,size=4k",
            },
            ShmSize = _options.TmpfsSizeBytes,
            // The workspace's own file system, mounted nosuid,nodev(,noexec) by the Host; the bind keeps those flags.
            Binds = [$"{_volumes.DaemonPath(volume)}:/workspace:rw"],
            // One file can never be larger than the whole quota (the file system stops the total).
            // nofile/nproc are given too: with any ulimit set, Podman drops its defaults and asks for
            // more than an unprivileged engine may grant. nproc counts per uid: each sandbox has its own.
            Ulimits =
            [
                new Ulimit { Name = "fsize", Soft = _options.WorkspaceQuotaBytes, Hard = _options.WorkspaceQuotaBytes },
                new Ulimit { Name = "nofile", Soft = 1024, Hard = 1024 },
                new Ulimit { Name = "nproc", Soft = 512, Hard = 512 },
            ],
            LogConfig = new LogConfig { Type = "none" },
            RestartPolicy = new RestartPolicy { Name = RestartPolicyKind.No },
        },
    };

    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(_owned.ToArray().Select(o => RemoveAsync(o.Key, o.Value)));
        Docker.Dispose();
    }
}
