using Conclave.Sandbox.Containers;
using Conclave.Sandbox.Contracts;
using Conclave.Sandbox.Workspaces;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Wolverine.Runtime;

namespace Conclave.Sandbox.Nodes;

/// <summary>
/// What a node leaves behind when it is killed (or stops and never comes back) is removed by a node still alive once
/// it has been silent for <see cref="SandboxOptions.DeadNodeGrace"/>: its containers (by their node label), its warm
/// volumes no session names, its placements, its queue tables with the expired calls in them, and its row. Every live
/// node sweeps; two sweeping one node at once do the same idempotent steps.
/// </summary>
internal sealed partial class DeadNodeSweep(
    SandboxPlacements placements,
    SandboxContainers containers,
    WorkspaceVolumes volumes,
    IWolverineRuntime runtime,
    IOptions<SandboxOptions> options,
    TimeProvider clock,
    ILogger<DeadNodeSweep> logger)
    : BackgroundService
{
    /// <summary>
    /// After a restore (<see cref="SandboxOptions.RestoredAt"/>), the nodes of the installation that was backed up
    /// give their sessions up before this node serves anything.
    /// </summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.RestoredAt is { } restoredAt)
        {
            try
            {
                Released(logger, await placements.ReleaseOfNodesSilentSinceAsync(restoredAt, cancellationToken), restoredAt);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                SweepFailed(logger, e);
            }
        }

        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.NodeTimeout, clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                SweepFailed(logger, e);
            }
        }
    }

    private async Task SweepAsync(CancellationToken ct)
    {
        var cutoff = clock.GetUtcNow() - options.Value.DeadNodeGrace;
        foreach (var nodeId in await placements.SilentSinceAsync(cutoff, ct))
        {
            // The containers first: a sweep cut short here runs again next time, as the node's row is still there.
            var removed = await containers.RemoveLeftoversOfAsync(nodeId, ct);
            await volumes.RemoveLeftoversOfAsync(nodeId, ct);
            if (await placements.ForgetAsync(nodeId, cutoff, () => NodeQueue.DropAsync(runtime, nodeId, logger), ct))
            {
                Swept(logger, nodeId, removed);
            }
        }
    }

    [LoggerMessage(53, LogLevel.Information, "Sandbox node {NodeId} has been silent past the grace period: its {Containers} container(s), warm volumes, placements and queue are removed")]
    private static partial void Swept(ILogger logger, string nodeId, int containers);

    [LoggerMessage(55, LogLevel.Information, "Restored from a backup at {RestoredAt}: {Sessions} session(s) held by the backed-up installation's nodes released")]
    private static partial void Released(ILogger logger, int sessions, DateTimeOffset restoredAt);

    [LoggerMessage(54, LogLevel.Warning, "Could not sweep what silent sandbox nodes left behind; trying again at the next round")]
    private static partial void SweepFailed(ILogger logger, Exception exception);
}
