using Conclave.Sessions.Contracts;
using Conclave.Sessions.Log;

namespace Conclave.Sessions.RunControl;

/// <summary>
/// Answer a tool call waiting for approval. Nobody executes a run that waits, so the answer is appended
/// and the run requested again, both in one commit, for whichever node takes it.
/// </summary>
internal sealed record AnswerApproval(string OwnerId, Guid SessionId, Guid RunId, string CallId)
{
    public Decision Decide(IReadOnlyList<SessionEvent> lifecycle, ApprovalAnswer answer, DateTimeOffset now)
    {
        var asked = Pending(lifecycle, RunId, CallId);
        if (answer.Reason is { Length: > ToolApprovalDenied.MaxReasonChars })
        {
            throw new SessionValidationException("reason", $"Give a reason of at most {ToolApprovalDenied.MaxReasonChars:N0} characters.");
        }

        object decided = answer.Approve
            ? new ToolApprovalGranted(RunId, CallId, asked.Tool, answer.AlwaysInSession, now)
            : new ToolApprovalDenied(RunId, CallId, asked.Tool, string.IsNullOrWhiteSpace(answer.Reason) ? null : answer.Reason.Trim(), false, now);
        return Decision.Append(decided).Send(new RunRequested(SessionId, RunId, OwnerId));
    }

    private static ToolApprovalRequested Pending(IReadOnlyList<SessionEvent> lifecycle, Guid runId, string callId)
    {
        if (PendingApprovals.Of(lifecycle, runId).FirstOrDefault(p => p.CallId == callId) is { } asked)
        {
            return asked;
        }

        var known = lifecycle.Any(e => e.Data is ToolApprovalRequested r && r.RunId == runId && r.CallId == callId);
        return known
            ? throw new RunStateException(runId, $"The call {callId} was already answered.")
            : throw new ApprovalNotFoundException(runId, callId);
    }
}
