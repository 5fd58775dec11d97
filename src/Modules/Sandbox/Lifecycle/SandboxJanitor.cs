using Conclave.Sandbox.Containers;
using Conclave.Sandbox.Contracts;
using Conclave.Sandbox.Telemetry;
using Conclave.Sandbox.Workspaces;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Conclave.Sandbox.Lifecycle;

/// <summary>
/// The module's background work: at start-up and then every <see cref="SandboxOptions.JanitorInterval"/>
/// it removes orphaned containers, reaps idle ones and keeps the warm pool full. On shutdown it
/// removes every container this process started.
/// </summary>
internal sealed class SandboxJanitor(
    SandboxContainers containers,
    SessionSandboxes sessions,
    WarmPool pool,
    WorkspaceVolumes volumes,
    SandboxMetrics metrics,
    IOptions<SandboxOptions> options,
    TimeProvider time,
    ILogger<SandboxJanitor> logger) : BackgroundService
{
    private readonly TaskCompletionSource _firstPass = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes after the start-up pass (orphans removed, pool being filled).</summary>
    public Task FirstPass => _firstPass.Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Before the pool starts anything, every volume no session names is a previous process's leftover.
        await volumes.RecoveredAsync(stoppingToken);
        using var timer = new PeriodicTimer(options.Value.JanitorInterval, time);
        do
        {
            await PassAsync(stoppingToken);
            _firstPass.TrySetResult();
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>One round of housekeeping; public so tests and the Host can force one.</summary>
    public async Task PassAsync(CancellationToken ct)
    {
        try
        {
            var orphans = await containers.RemoveOrphansAsync(ct);
            for (var i = 0; i < orphans; i++)
            {
                metrics.ContainerReaped("orphan");
            }
            await sessions.ReapIdleAsync(options.Value.IdleTimeout);
            await pool.PruneDeadAsync();
            pool.TopUp();
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            Log.JanitorFailed(logger, e);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await pool.DisposeAsync();
        await sessions.DisposeAsync();
        await volumes.DisposeAsync();
    }
}
