namespace Conclave.Sessions.Contracts;

/// <summary>
/// Read and append access to a session's log for other modules (the run orchestrator). The
/// Sessions module stays the only writer of its tables; appends are published live after commit.
/// </summary>
public interface ISessionLog
{
    Task<IReadOnlyList<SessionEvent>> ReadAsync(Guid sessionId, long afterVersion, CancellationToken cancellationToken);

    /// <summary>Appends the events in order and returns the version of the last one.</summary>
    Task<long> AppendAsync(Guid sessionId, IReadOnlyList<object> events, CancellationToken cancellationToken);

    /// <summary>
    /// Appends a step of a run, only while the run has not ended (checked atomically with the
    /// append): throws <see cref="RunAlreadyEndedException"/> when it was stopped, superseded or reaped.
    /// </summary>
    Task<long> AppendToRunAsync(Guid sessionId, Guid runId, IReadOnlyList<object> events, CancellationToken cancellationToken);
}
