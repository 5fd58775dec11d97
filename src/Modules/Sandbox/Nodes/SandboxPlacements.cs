using Conclave.Sandbox.Contracts;
using Conclave.Sandbox.Workspaces;
using JasperFx;
using Marten;
using Marten.Exceptions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Conclave.Sandbox.Nodes;

/// <summary>
/// Decides where a session's sandbox lives among the nodes on one database: the placement's node while it is
/// alive, else this node, which claims the session (nobody had it) or takes it over from a dead node. Two nodes
/// claiming at once are told apart by Marten's optimistic concurrency: one save wins, the other reads again.
/// The placement is also the mount lease (<see cref="IMountLease"/>): only the holder mounts the session's workspace.
/// </summary>
internal sealed partial class SandboxPlacements(IDocumentStore store, IOptions<SandboxOptions> options, TimeProvider clock, ILogger<SandboxPlacements> logger)
    : IMountLease
{
    private const int MaxAttempts = 5;

    /// <summary>Marten's tables for the two documents (schema and aliases set in <c>ConfigureSandbox</c>).</summary>
    private const string NodeTable = SandboxModule.Schema + ".mt_doc_node";
    private const string PlacementTable = SandboxModule.Schema + ".mt_doc_placement";

    private volatile bool _leaving;

    public string ThisNode => options.Value.NodeId;

    /// <summary>
    /// The node that holds the session's sandbox from now on: this one (claimed if needed) or a live other one.
    /// A leaving node claims nothing and keeps nothing: it answers with another live holder, or refuses.
    /// </summary>
    public async Task<string> PlaceAsync(Guid sessionId, CancellationToken ct)
    {
        if (_leaving)
        {
            return await OtherOwnerAsync(sessionId, ct)
                ?? throw new SandboxUnavailableException($"Node {ThisNode} is stopping and gives its sandboxes up; try again in a moment, on any node.");
        }
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

    public async Task<string?> HolderElsewhereAsync(Guid sessionId, CancellationToken ct) =>
        await PlaceAsync(sessionId, ct) is var owner && owner == ThisNode ? null : owner;

    /// <summary>Of <paramref name="sessions"/>, those whose placement no longer names this node (taken over, or released).</summary>
    public async Task<IReadOnlyList<Guid>> NotHeldHereAsync(IReadOnlyCollection<Guid> sessions, CancellationToken ct)
    {
        await using var session = store.QuerySession();
        var placements = await session.LoadManyAsync<SandboxPlacement>(ct, sessions);
        var held = placements.Where(p => p.NodeId == ThisNode).Select(p => p.Id).ToHashSet();
        return sessions.Where(s => !held.Contains(s)).ToList();
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

    /// <summary>From now on this node claims no session and runs no call for one it holds: it is giving them up.</summary>
    public void BeginLeaving() => _leaving = true;

    /// <summary>
    /// This node leaves (its containers and mounts are gone already): it holds no session from now on, and the others
    /// need not wait for its silence to take them. Its row stays, marked, for the sweep of what it left (its queue).
    /// </summary>
    public async Task LeaveAsync(CancellationToken ct)
    {
        await using var session = store.LightweightSession();
        session.DeleteWhere<SandboxPlacement>(p => p.NodeId == ThisNode);
        var now = clock.GetUtcNow();
        session.Store(new SandboxNode { Id = ThisNode, LastSeen = now, LeftAt = now });
        await session.SaveChangesAsync(ct);
    }

    /// <summary>Other nodes silent (dead, or gone in good order) since before <paramref name="cutoff"/>.</summary>
    /// <summary>Releases the sessions held by nodes other than this one last seen before <paramref name="cutoff"/>; how many.</summary>
    public async Task<int> ReleaseOfNodesSilentSinceAsync(DateTimeOffset cutoff, CancellationToken ct)
    {
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(ct);
        await using var release = new NpgsqlCommand(
            $"""
            delete from {PlacementTable} p using {NodeTable} n
            where p.data ->> 'NodeId' = n.id and n.id <> $1 and (n.data ->> 'LastSeen')::timestamptz < $2
            """,
            connection)
        {
            Parameters = { new() { Value = ThisNode }, new() { Value = cutoff } },
        };
        return await release.ExecuteNonQueryAsync(ct);
    }

    public async Task<IReadOnlyList<string>> SilentSinceAsync(DateTimeOffset cutoff, CancellationToken ct)
    {
        await using var session = store.QuerySession();
        var silent = await session.Query<SandboxNode>().Where(n => n.LastSeen < cutoff).Select(n => n.Id).ToListAsync(ct);
        return silent.Where(id => id != ThisNode).ToList();
    }

    /// <summary>
    /// Forgets a node silent since before <paramref name="cutoff"/>: its placements and its row go. <paramref name="dropQueue"/>
    /// runs while the row is locked, so a node that comes back at that moment waits for the sweep to end, then finds its
    /// queue gone and sets it up again (<see cref="NodeHeartbeat"/>). False when it spoke again first.
    /// </summary>
    public async Task<bool> ForgetAsync(string nodeId, DateTimeOffset cutoff, Func<Task> dropQueue, CancellationToken ct)
    {
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using (var silent = new NpgsqlCommand(
            $"select 1 from {NodeTable} where id = $1 and (data ->> 'LastSeen')::timestamptz < $2 for update", connection, transaction)
        {
            Parameters = { new() { Value = nodeId }, new() { Value = cutoff } },
        })
        {
            if (await silent.ExecuteScalarAsync(ct) is null)
            {
                return false;
            }
        }
        await dropQueue();
        await using var forget = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand($"delete from {PlacementTable} where data ->> 'NodeId' = $1") { Parameters = { new() { Value = nodeId } } },
                new NpgsqlBatchCommand($"delete from {NodeTable} where id = $1") { Parameters = { new() { Value = nodeId } } },
            },
        };
        await forget.ExecuteNonQueryAsync(ct);
        await transaction.CommitAsync(ct);
        return true;
    }

    private async Task<bool> IsAliveAsync(IQuerySession session, string nodeId, CancellationToken ct)
    {
        var node = await session.LoadAsync<SandboxNode>(nodeId, ct);
        return node is { LeftAt: null } && node.LastSeen >= clock.GetUtcNow() - options.Value.NodeTimeout;
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
