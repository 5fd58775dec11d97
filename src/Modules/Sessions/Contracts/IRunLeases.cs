namespace Conclave.Sessions.Contracts;

/// <summary>
/// Who executes a run right now. A node holds a run's lease while it works on it and renews it
/// every <see cref="HeartbeatInterval"/>; a lease not renewed in time is stale, and the reaper
/// queues the run again (a bounded number of times) or fails it as orphaned.
/// </summary>
public interface IRunLeases
{
    TimeSpan HeartbeatInterval { get; }

    /// <summary>Takes the lease when nobody holds it or its holder went stale; false when a live node holds it.</summary>
    Task<bool> TryAcquireAsync(Guid sessionId, Guid runId, string nodeId, CancellationToken cancellationToken);

    /// <summary>Renews the lease; false when this node no longer holds it (the run was reaped and taken over).</summary>
    Task<bool> RenewAsync(Guid runId, string nodeId, CancellationToken cancellationToken);

    /// <summary>
    /// Gives the lease up. <paramref name="runGoesOn"/>: the run is not finished (this node shuts
    /// down), so the lease is left stale for the reaper to hand on at once; otherwise it is removed.
    /// </summary>
    Task ReleaseAsync(Guid runId, string nodeId, bool runGoesOn, CancellationToken cancellationToken);

    /// <summary>
    /// A draining node hands on a run it was given but will not start (ADR 0015): the lease is left stale
    /// and marked handed on, so another node's reaper queues the run again without counting an attempt.
    /// Nothing happens when a live node holds the lease.
    /// </summary>
    Task HandOnAsync(Guid sessionId, Guid runId, CancellationToken cancellationToken);
}
