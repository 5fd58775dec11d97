using Conclave.Sandbox.Contracts;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Wolverine.Runtime;

namespace Conclave.Sandbox.Nodes;

/// <summary>
/// Keeps this node's row in the sandbox schema fresh every <see cref="SandboxOptions.NodeHeartbeatInterval"/>, so the
/// other nodes send it calls for the sandboxes it holds, and after each beat lets go of sessions taken from it. On
/// shutdown it gives its sessions up in the order that keeps one mount per image: containers and mounts while it still
/// beats, then its placements, so the others take those sessions over at once instead of after <see cref="SandboxOptions.NodeTimeout"/>.
/// </summary>
internal sealed partial class NodeHeartbeat(
    SandboxPlacements placements,
    HeldSessions held,
    IWolverineRuntime runtime,
    IOptions<SandboxOptions> options,
    TimeProvider clock,
    ILogger<NodeHeartbeat> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.NodeHeartbeatInterval, clock);
        DateTimeOffset? lastBeat = null;
        do
        {
            try
            {
                await placements.BeatAsync(stoppingToken);
                var now = clock.GetUtcNow();
                if (lastBeat is { } last && now - last > options.Value.NodeTimeout)
                {
                    // Silent long enough to pass for dead, maybe long enough for a live node to have swept its queue away.
                    await NodeQueue.SetUpAsync(runtime, placements.ThisNode, logger);
                    BackAfterSilence(logger, placements.ThisNode, (now - last).TotalSeconds);
                }
                lastBeat = now;
                await held.DropLostAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                BeatFailed(logger, e, placements.ThisNode);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        placements.BeginLeaving();
        try
        {
            await held.LetGoAllAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LetGoFailed(logger, e, placements.ThisNode);
        }
        await base.StopAsync(cancellationToken);
        try
        {
            await placements.LeaveAsync(cancellationToken);
            Left(logger, placements.ThisNode);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LeaveFailed(logger, e, placements.ThisNode);
        }
    }

    [LoggerMessage(46, LogLevel.Warning, "Sandbox node {NodeId} could not renew its heartbeat")]
    private static partial void BeatFailed(ILogger logger, Exception exception, string nodeId);

    [LoggerMessage(47, LogLevel.Information, "Sandbox node {NodeId} left: its sessions' sandboxes go to the next node that calls them")]
    private static partial void Left(ILogger logger, string nodeId);

    [LoggerMessage(48, LogLevel.Warning, "Sandbox node {NodeId} could not remove its placements on leaving; the others take them over after its timeout")]
    private static partial void LeaveFailed(ILogger logger, Exception exception, string nodeId);

    [LoggerMessage(51, LogLevel.Warning, "Sandbox node {NodeId} could not remove every container and mount on leaving")]
    private static partial void LetGoFailed(ILogger logger, Exception exception, string nodeId);

    [LoggerMessage(52, LogLevel.Warning, "Sandbox node {NodeId} beats again after {Seconds:0.#} s of silence: the others may have taken its sessions over; its queue is set up again if it was swept")]
    private static partial void BackAfterSilence(ILogger logger, string nodeId, double seconds);
}
