using Conclave.Sessions.Contracts;
using Conclave.Sessions.Lifecycle;
using Conclave.Sessions.Log;

namespace Conclave.Sessions.RunControl;

/// <summary>The run a control request names, as its lifecycle in the log has it.</summary>
internal static class ControlledRun
{
    /// <summary>
    /// Where the run stands. A run of another owner's session, or one the session does not hold, is
    /// not found; an ended run cannot be controlled any more.
    /// </summary>
    public static async Task<RunStatus> StatusAsync(
        OwnedSessions sessions, SessionLog log, string ownerId, Guid sessionId, Guid runId, CancellationToken cancellationToken)
    {
        await sessions.RequireAsync(ownerId, sessionId, cancellationToken);
        var status = RunHistory.StatusOf(await log.ReadRunLifecycleAsync(sessionId, runId, cancellationToken), runId);
        return status switch
        {
            RunStatus.None => throw new SessionNotFoundException(sessionId),
            _ when status.HasEnded() => throw new RunAlreadyEndedException(runId),
            _ => status,
        };
    }
}
