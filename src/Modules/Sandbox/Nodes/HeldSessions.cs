using Conclave.Sandbox.Lifecycle;
using Conclave.Sandbox.Workspaces;
using Microsoft.Extensions.Logging;

namespace Conclave.Sandbox.Nodes;

/// <summary>
/// How this node lets go of the sessions it holds, always in the order that keeps one mount per workspace image
/// (ADR 0015, the placement is the mount lease): the session's container goes, then this node's mount of its image,
/// and only then the placement, so that no other node mounts the image while this one still has it mounted.
/// </summary>
internal sealed partial class HeldSessions(SessionSandboxes sandboxes, WorkspaceVolumes volumes, SandboxPlacements placements, ILogger<HeldSessions> logger)
{
    /// <summary>The sandbox is stopped: the session is free for any node from now on.</summary>
    public async Task StopAsync(Guid sessionId, CancellationToken ct)
    {
        await LetGoAsync(sessionId, ct);
        await placements.ReleaseAsync(sessionId, ct);
    }

    /// <summary>
    /// Sessions this node still holds in memory whose placement names another node now (it was taken for dead and its
    /// sessions taken over) or nobody: their containers and mounts go, so nothing here writes to their images any more.
    /// </summary>
    public async Task DropLostAsync(CancellationToken ct)
    {
        var held = volumes.HeldSessions;
        if (held.Count == 0)
        {
            return;
        }
        foreach (var sessionId in await placements.NotHeldHereAsync(held, ct))
        {
            await LetGoAsync(sessionId, ct);
            Lost(logger, sessionId, placements.ThisNode);
        }
    }

    /// <summary>Every session's container and mount, as the node leaves; its placements go after (<see cref="SandboxPlacements.LeaveAsync"/>).</summary>
    public async Task LetGoAllAsync(CancellationToken ct)
    {
        foreach (var sessionId in volumes.HeldSessions.Union(sandboxes.Active.Select(a => a.SessionId)).ToList())
        {
            await LetGoAsync(sessionId, ct);
        }
    }

    private async Task LetGoAsync(Guid sessionId, CancellationToken ct)
    {
        await sandboxes.StopAsync(sessionId, ct);
        await volumes.ReleaseAsync(sessionId, ct);
    }

    [LoggerMessage(50, LogLevel.Warning, "Node {NodeId} no longer holds session {SessionId} (taken over while this node was silent, or released): its container and mount here are gone")]
    private static partial void Lost(ILogger logger, Guid sessionId, string nodeId);
}
