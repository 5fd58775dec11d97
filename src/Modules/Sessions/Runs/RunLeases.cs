using Conclave.Sessions.Contracts;
using JasperFx;
using Marten;
using Marten.Exceptions;
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

    public async Task<bool> RenewAsync(Guid runId, string nodeId, CancellationToken cancellationToken)
    {
        await using var session = store.LightweightSession();
        var lease = await session.LoadAsync<RunLease>(runId, cancellationToken);
        if (lease?.NodeId != nodeId)
        {
            return false;
        }

        lease.HeartbeatAt = clock.GetUtcNow();
        session.Update(lease);
        return await TrySaveAsync(session, cancellationToken);
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
            session.Update(lease);
        }
        else
        {
            session.Delete(lease);
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
