namespace Conclave.Sessions.Contracts;

/// <summary>The user's control over a session's runs.</summary>
public interface IRunControl
{
    /// <summary>
    /// Asks the run to stop at once: its model stream is aborted and <see cref="RunCancelled"/> is
    /// appended. Throws <see cref="SessionNotFoundException"/> for a session that is not the
    /// owner's or a run it does not hold, <see cref="RunAlreadyEndedException"/> for a finished run.
    /// </summary>
    Task CancelAsync(string ownerId, Guid sessionId, Guid runId, CancellationToken cancellationToken);
}

/// <summary>Sent to whichever node executes the run; it cancels the run's work.</summary>
public sealed record RunCancellationRequested(Guid SessionId, Guid RunId);

public sealed class RunAlreadyEndedException(Guid runId)
    : Exception($"Run {runId} has already ended; there is nothing to stop.")
{
    public Guid RunId { get; } = runId;
}

public static class RunHistory
{
    /// <summary>True when the log holds the run's queueing and none of its endings.</summary>
    public static bool IsActive(IEnumerable<SessionEvent> history, Guid runId)
    {
        var queued = false;
        foreach (var e in history)
        {
            switch (e.Data)
            {
                case RunQueued q when q.RunId == runId:
                    queued = true;
                    break;
                case RunCompleted c when c.RunId == runId:
                case RunFailed f when f.RunId == runId:
                case RunCancelled x when x.RunId == runId:
                    return false;
            }
        }

        return queued;
    }
}
