using Conclave.Sessions.Contracts;

namespace Conclave.Agents.Runs;

/// <summary>
/// An approval left unanswered until it expired counts as denied, and the run goes on. Idempotent: a
/// retry after a crash finds the denial in the log and only requests the run again (a duplicate request
/// of a run that is already taken does nothing).
/// </summary>
public static class ApprovalExpiredHandler
{
    public static async Task<RunRequested?> Handle(ApprovalExpired message, ISessionLog log, TimeProvider clock, CancellationToken cancellationToken)
    {
        var history = await log.ReadAsync(message.SessionId, 0, cancellationToken);
        var status = RunHistory.StatusOf(history, message.RunId);
        if (status.HasEnded())
        {
            return null;
        }

        if (PendingApprovals.Of(history, message.RunId).FirstOrDefault(p => p.CallId == message.CallId) is { } asked)
        {
            try
            {
                await log.AppendToRunAsync(
                    message.SessionId, message.RunId,
                    [new ToolApprovalDenied(message.RunId, message.CallId, asked.Tool, "Nobody answered in time.", true, clock.GetUtcNow())],
                    cancellationToken);
            }
            catch (RunAlreadyEndedException)
            {
                return null;
            }

            status = RunStatus.Queued;
        }

        var owner = history.Select(e => e.Data).OfType<RunQueued>().FirstOrDefault(q => q.RunId == message.RunId)?.OwnerId ?? "";
        return status == RunStatus.Queued ? new RunRequested(message.SessionId, message.RunId, owner) : null;
    }
}
