using Conclave.Sessions.Contracts;
using JasperFx;
using Marten;
using Microsoft.Extensions.Options;

namespace Conclave.Sessions.Runs;

internal sealed class RunLeases(IDocumentStore store, IOptions<RunLeaseOptions> options, TimeProvider clock) : IRunLeases
{
    public TimeSpan HeartbeatInterval => options.Value.HeartbeatInterval;

    public async Task<bool> TryAcquireAsync(Guid sessionId, Guid runId, string nodeId, CancellationToken cancellationToken)
    {
        await using var session = store.LightweightSession();
        var now = clock.GetUtcNow();
        var lease = await session.LoadAsync<RunLease>(runId, cancellationToken);
        if (lease is null)
        {
            session.Insert(new RunLease { Id = runId, SessionId = sessionId, NodeId = nodeId, HeartbeatAt = now });
        }
        else if (lease.NodeId is null || IsStale(lease, now))
        {
            lease.NodeId = nodeId;
            lease.HeartbeatAt = now;
            session.Update(lease);
        }
        else
        {
            return false;
        }

        return await TrySaveAsync(session, cancellationToken);
    }

    /// <summary>
    /// One statement, no load: renewals are the most frequent lease write (every run, every heartbeat).
    /// It moves <c>mt_version</c> on as Marten's own update would, so a reaper or a node that loaded the
    /// lease before the renewal fails its optimistic save instead of taking a live run.
    /// </summary>
    private static readonly string RenewSql =
        $"update {SessionsModule.Schema}.mt_doc_runlease set data = jsonb_set(data, '{{HeartbeatAt}}', to_jsonb($3::text)), " +
        "mt_version = gen_random_uuid(), mt_last_modified = transaction_timestamp() where id = $1 and data ->> 'NodeId' = $2";

    public async Task<bool> RenewAsync(Guid runId, string nodeId, CancellationToken cancellationToken)
    {
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(cancellationToken);
        await using var command = new Npgsql.NpgsqlCommand(RenewSql, connection)
        {
            Parameters =
            {
                new() { Value = runId },
                new() { Value = nodeId },
                new() { Value = clock.GetUtcNow().ToString("O", System.Globalization.CultureInfo.InvariantCulture) },
            },
        };
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task ReleaseAsync(Guid runId, string nodeId, bool runGoesOn, CancellationToken cancellationToken)
    {
        await using var session = store.LightweightSession();
        var lease = await session.LoadAsync<RunLease>(runId, cancellationToken);
        if (lease?.NodeId != nodeId)
        {
            return;
        }

        if (runGoesOn)
        {
            // Stale from now: the next sweep of any node's reaper hands the run on.
            lease.HeartbeatAt = DateTimeOffset.UnixEpoch;
            lease.HandedOn = true;
            session.Update(lease);
        }
        else
        {
            session.Delete(lease);
        }

        await TrySaveAsync(session, cancellationToken);
    }

    public async Task HandOnAsync(Guid sessionId, Guid runId, CancellationToken cancellationToken)
    {
        await using var session = store.LightweightSession();
        var lease = await session.LoadAsync<RunLease>(runId, cancellationToken);
        if (lease is null)
        {
            session.Insert(new RunLease { Id = runId, SessionId = sessionId, HeartbeatAt = DateTimeOffset.UnixEpoch, HandedOn = true });
        }
        else if (lease.NodeId is null || IsStale(lease, clock.GetUtcNow()))
        {
            lease.NodeId = null;
            lease.HeartbeatAt = DateTimeOffset.UnixEpoch;
            lease.HandedOn = true;
            session.Update(lease);
        }
        else
        {
            return;
        }

        await TrySaveAsync(session, cancellationToken);
    }

    public bool IsStale(RunLease lease, DateTimeOffset now) => lease.HeartbeatAt < now - options.Value.LeaseTimeout;

    /// <summary>Saves a lease change; false when another node changed the lease in between (optimistic concurrency).</summary>
    internal static async Task<bool> TrySaveAsync(IDocumentSession session, CancellationToken cancellationToken)
    {
        try
        {
            await session.SaveChangesAsync(cancellationToken);
            return true;
        }
        catch (Exception e) when (e is ConcurrencyException or DocumentAlreadyExistsException
                                  || e.InnerException is ConcurrencyException or DocumentAlreadyExistsException)
        {
            // Another node changed the lease in between: it is theirs.
            return false;
        }
    }
}
