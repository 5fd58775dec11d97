namespace Conclave.Sessions.Contracts;

// A tool call under the "ask" policy waits for its run's owner: the request, then one answer, all in
// the session's log, so a pending approval survives a restart and is answered on any node.

/// <summary>
/// A call waits for the user's approval: the run stops at this step boundary and gives its lease up,
/// as a pause does. Unanswered by <see cref="ExpiresAt"/>, it counts as denied.
/// </summary>
public sealed record ToolApprovalRequested(
    Guid RunId, string CallId, string Agent, string Tool, string Arguments, DateTimeOffset At, DateTimeOffset ExpiresAt) : IRunEvent;

/// <summary>The user let the call run. <see cref="AlwaysInSession"/>: further calls of this tool in the session run without asking.</summary>
public sealed record ToolApprovalGranted(Guid RunId, string CallId, string Tool, bool AlwaysInSession, DateTimeOffset At) : IRunEvent;

/// <summary>The user refused the call (or let it time out); the agent is told so, with the reason, and goes on.</summary>
public sealed record ToolApprovalDenied(Guid RunId, string CallId, string Tool, string? Reason, bool TimedOut, DateTimeOffset At) : IRunEvent
{
    public const int MaxReasonChars = 1_000;
}

/// <summary>The user's answer to a pending approval.</summary>
/// <param name="Reason">For a denial: told to the agent (at most <see cref="ToolApprovalDenied.MaxReasonChars"/> characters).</param>
public sealed record ApprovalAnswer(bool Approve, string? Reason = null, bool AlwaysInSession = false);

/// <summary>Sent, delayed and durable, when an approval is asked for; if it is still pending then, it is denied.</summary>
public sealed record ApprovalExpired(Guid SessionId, Guid RunId, string CallId);

/// <summary>Which approvals of a run are still waiting, read from its lifecycle events.</summary>
public static class PendingApprovals
{
    public static IReadOnlyList<ToolApprovalRequested> Of(IEnumerable<SessionEvent> history, Guid runId)
    {
        var pending = new List<ToolApprovalRequested>();
        foreach (var e in history)
        {
            switch (e.Data)
            {
                case ToolApprovalRequested asked when asked.RunId == runId:
                    pending.Add(asked);
                    break;
                case ToolApprovalGranted granted when granted.RunId == runId:
                    pending.RemoveAll(p => p.CallId == granted.CallId);
                    break;
                case ToolApprovalDenied denied when denied.RunId == runId:
                    pending.RemoveAll(p => p.CallId == denied.CallId);
                    break;
            }
        }

        return pending;
    }
}

/// <summary>The run holds no approval request for this call.</summary>
public sealed class ApprovalNotFoundException(Guid runId, string callId)
    : Exception($"Run {runId} has no approval request for the call {callId}.")
{
    public Guid RunId { get; } = runId;

    public string CallId { get; } = callId;
}
