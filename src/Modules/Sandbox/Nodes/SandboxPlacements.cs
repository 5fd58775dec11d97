using Conclave.Sandbox.Contracts;
using JasperFx;
using Marten;
using Marten.Exceptions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Conclave.Sandbox.Nodes;

/// <summary>
/// Decides where a session's sandbox lives among the nodes on one database: the placement's node while it is
/// alive, else this node, which claims the session (nobody had it) or takes it over from a dead node. Two nodes
/// claiming at once are told apart by Marten's optimistic concurrency: one save wins, the other reads again.
/// </summary>
internal sealed partial class SandboxPlacements(IDocumentStore store, IOptions<SandboxOptions> options, TimeProvider clock, ILogger<SandboxPlacements> logger)
{
    private const int MaxAttempts = 5;

    public string ThisNode => options.Value.NodeId;

    /// <summary>The node that holds the session's sandbox from now on: this one (claimed if needed) or a live other one.</summary>
    public async Task<string> PlaceAsync(Guid sessionId, CancellationToken ct)
    {
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            await using var session = store.LightweightSession();
            var placement = await session.LoadAsync<SandboxPlacement>(sessionId, ct);
            if (placement?.NodeId == ThisNode)
            {
                return ThisNode;
            }
            var now = clock.GetUtcNow();
            var previous = placement?.NodeId;
            if (placement is null)
            {
                session.Insert(new SandboxPlacement { Id = sessionId, NodeId = ThisNode, At = now });
            }
            else if (await IsAliveAsync(session, placement.NodeId, ct))
            {
                return placement.NodeId;
            }
            else
            {
                placement.NodeId = ThisNode;
                placement.At = now;
                session.Update(placement);
            }

            if (await TrySaveAsync(session, ct))
            {
                if (previous is null)
                {
                    Claimed(logger, sessionId, ThisNode);
                }
                else
                {
                    TookOver(logger, sessionId, ThisNode, previous);
                }
                return ThisNode;
            }
        }
        throw new SandboxUnavailableException($"Nodes kept claiming session {sessionId}'s sandbox at the same time; try again.");
    }

    /// <summary>The live node other than this one that holds the session's sandbox, without claiming anything.</summary>
    public async Task<string?> OtherOwnerAsync(Guid sessionId, CancellationToken ct)
    {
        await using var session = store.QuerySession();
        var placement = await session.LoadAsync<SandboxPlacement>(sessionId, ct);
        return placement is not null && placement.NodeId != ThisNode && await IsAliveAsync(session, placement.NodeId, ct)
            ? placement.NodeId
            : null;
    }

    public async Task<bool> IsAliveAsync(string nodeId, CancellationToken ct)
    {
        await using var session = store.QuerySession();
        return await IsAliveAsync(session, nodeId, ct);
    }

    /// <summary>Forgets the session's placement (whichever node had it): its sandbox is gone.</summary>
    public async Task ReleaseAsync(Guid sessionId, CancellationToken ct)
    {
        await using var session = store.LightweightSession();
        session.Delete<SandboxPlacement>(sessionId);
        await session.SaveChangesAsync(ct);
    }

    /// <summary>This node is alive now.</summary>
    public async Task BeatAsync(CancellationToken ct)
    {
        await using var session = store.LightweightSession();
        session.Store(new SandboxNode { Id = ThisNode, LastSeen = clock.GetUtcNow() });
        await session.SaveChangesAsync(ct);
    }

    /// <summary>This node leaves: it holds no session from now on, and the others need not wait for its silence to take them.</summary>
    public async Task LeaveAsync(CancellationToken ct)
    {
        await using var session = store.LightweightSession();
        session.DeleteWhere<SandboxPlacement>(p => p.NodeId == ThisNode);
        session.Delete<SandboxNode>(ThisNode);
        await session.SaveChangesAsync(ct);
    }

    private async Task<bool> IsAliveAsync(IQuerySession session, string nodeId, CancellationToken ct)
    {
        var node = await session.LoadAsync<SandboxNode>(nodeId, ct);
        return node is not null && node.LastSeen >= clock.GetUtcNow() - options.Value.NodeTimeout;
    }

    private static async Task<bool> TrySaveAsync(IDocumentSession session, CancellationToken ct)
    {
        try
        {
            await session.SaveChangesAsync(ct);
            return true;
        }
        catch (Exception e) when (e is ConcurrencyException or DocumentAlreadyExistsException
                                  || e.InnerException is ConcurrencyException or DocumentAlreadyExistsException)
        {
            return false; // another node saved first: read again
        }
    }

    [LoggerMessage(40, LogLevel.Information, "Session {SessionId}'s sandbox is placed on node {NodeId}")]
    private static partial void Claimed(ILogger logger, Guid sessionId, string nodeId);

    [LoggerMessage(41, LogLevel.Warning, "Session {SessionId}'s sandbox taken over by node {NodeId} from node {DeadNodeId}, which stopped answering: files kept, variables lost")]
    private static partial void TookOver(ILogger logger, Guid sessionId, string nodeId, string deadNodeId);
}
