using System.Collections.Concurrent;
using Conclave.Sandbox.Containers;
using Conclave.Sandbox.Contracts;
using Conclave.Sandbox.Telemetry;
using Conclave.Sandbox.Workspaces;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Conclave.Sandbox.Lifecycle;

/// <summary>
/// Started containers with a running kernel and an empty volume of their own at /workspace, waiting
/// for a session (docs/adr/0002-sandbox-warm-pool.md). Taking one starts its replacement in the background.
/// </summary>
internal sealed class WarmPool(
    SandboxContainers containers,
    WorkspaceVolumes volumes,
    SandboxMetrics metrics,
    IOptions<SandboxOptions> options,
    TimeProvider time,
    ILogger<WarmPool> logger) : IAsyncDisposable
{
    private static readonly TimeSpan RetryAfterFailure = TimeSpan.FromSeconds(10);

    private readonly ConcurrentQueue<SandboxContainer> _ready = new();
    private readonly CancellationTokenSource _disposing = new();
    private int _starting;
    private long _lastFailureTicks;

    public int ReadyCount => _ready.Count;

    public int StartingCount => Volatile.Read(ref _starting);

    /// <summary>A ready container, or null when none is ready (the caller then starts one itself).</summary>
    public SandboxContainer? TryTake()
    {
        try
        {
            while (_ready.TryDequeue(out var container))
            {
                if (container.IsAlive)
                {
                    return container;
                }
                _ = DiscardAsync(container);
            }
            return null;
        }
        finally
        {
            TopUp();
        }
    }

    /// <summary>Puts back a container that was taken but not used (its session needed its own volume).</summary>
    public void Return(SandboxContainer container)
    {
        if (container.IsAlive && !_disposing.IsCancellationRequested)
        {
            _ready.Enqueue(container);
        }
        else
        {
            _ = DiscardAsync(container);
        }
    }

    /// <summary>Starts containers in the background until the pool holds its configured size.</summary>
    public void TopUp()
    {
        if (_disposing.IsCancellationRequested
            || time.GetUtcNow().UtcTicks - Interlocked.Read(ref _lastFailureTicks) < RetryAfterFailure.Ticks)
        {
            return;
        }
        while (true)
        {
            var inFlight = Volatile.Read(ref _starting);
            if (_ready.Count + inFlight >= options.Value.WarmPoolSize
                || containers.OwnedCount >= options.Value.MaxContainers)
            {
                return;
            }
            if (Interlocked.CompareExchange(ref _starting, inFlight + 1, inFlight) == inFlight)
            {
                _ = Task.Run(StartOneAsync);
            }
        }
    }

    /// <summary>Drops warm containers whose bridge died (e.g. removed from outside).</summary>
    public async Task PruneDeadAsync()
    {
        for (var i = _ready.Count; i > 0 && _ready.TryDequeue(out var container); i--)
        {
            if (container.IsAlive)
            {
                _ready.Enqueue(container);
            }
            else
            {
                metrics.ContainerReaped("dead");
                await DiscardAsync(container);
            }
        }
    }

    private async Task StartOneAsync()
    {
        var sandboxId = Guid.NewGuid();
        WorkspaceVolume? volume = null;
        try
        {
            volume = await volumes.CreateUnassignedAsync(_disposing.Token);
            var container = await containers.StartAsync(sandboxId, volume, sessionId: null, _disposing.Token);
            metrics.ContainerStarted("warm");
            if (_disposing.IsCancellationRequested)
            {
                await DiscardAsync(container);
                return;
            }
            _ready.Enqueue(container);
        }
        catch (OperationCanceledException) when (_disposing.IsCancellationRequested)
        {
            await DestroyAsync(volume);
        }
        catch (Exception e)
        {
            Interlocked.Exchange(ref _lastFailureTicks, time.GetUtcNow().UtcTicks);
            metrics.ContainerStartFailed("warm");
            if (e is SandboxLimitsNotEnforcedException)
            {
                Log.WarmStartRefused(logger, e.Message);
            }
            else
            {
                Log.WarmStartFailed(logger, e);
            }
            await DestroyAsync(volume);
        }
        finally
        {
            Interlocked.Decrement(ref _starting);
        }
    }

    private async Task DiscardAsync(SandboxContainer container)
    {
        await containers.RemoveAsync(container);
        await volumes.DestroyAsync(container.Volume);
    }

    private async Task DestroyAsync(WorkspaceVolume? volume)
    {
        if (volume is not null)
        {
            await volumes.DestroyAsync(volume);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _disposing.CancelAsync();
        var all = new List<Task>();
        while (_ready.TryDequeue(out var container))
        {
            all.Add(DiscardAsync(container));
        }
        await Task.WhenAll(all);
    }
}
