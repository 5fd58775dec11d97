using Conclave.Sandbox.Contracts;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Conclave.Sandbox.Nodes;

/// <summary>
/// Keeps this node's row in the sandbox schema fresh every <see cref="SandboxOptions.NodeHeartbeatInterval"/>, so the
/// other nodes send it calls for the sandboxes it holds; on shutdown it removes the row and its placements, so
/// they take those sessions over at once instead of after <see cref="SandboxOptions.NodeTimeout"/>.
/// </summary>
internal sealed partial class NodeHeartbeat(SandboxPlacements placements, IOptions<SandboxOptions> options, TimeProvider clock, ILogger<NodeHeartbeat> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.NodeHeartbeatInterval, clock);
        do
        {
            try
            {
                await placements.BeatAsync(stoppingToken);
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
}
