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

    /// <summary>
    /// Asks the run to pause at its next step boundary (<see cref="RunPauseRequested"/> now,
    /// <see cref="RunPaused"/> at the boundary). Throws <see cref="RunAlreadyEndedException"/> for a
    /// finished run, <see cref="RunStateException"/> when it is already paused or pausing.
    /// </summary>
    Task PauseAsync(string ownerId, Guid sessionId, Guid runId, CancellationToken cancellationToken);

    /// <summary>
    /// Resumes a paused (or pausing) run from its last persisted step, on whichever node takes it,
    /// also after a restart. Throws <see cref="RunStateException"/> when the run is not paused.
    /// </summary>
    Task ResumeAsync(string ownerId, Guid sessionId, Guid runId, CancellationToken cancellationToken);

    /// <summary>
    /// Answers a tool call waiting for approval: <see cref="ToolApprovalGranted"/> runs it,
    /// <see cref="ToolApprovalDenied"/> tells the agent it was denied; either way the run goes on, on
    /// whichever node takes it. Throws <see cref="SessionNotFoundException"/> for another owner's session
    /// or a run or call it does not hold, <see cref="RunAlreadyEndedException"/> for a finished run, and
    /// <see cref="RunStateException"/> for a call already answered.
    /// </summary>
    Task AnswerApprovalAsync(string ownerId, Guid sessionId, Guid runId, string callId, ApprovalAnswer answer, CancellationToken cancellationToken);
}

/// <summary>The reasons a run ended that more than one module states.</summary>
public static class RunReasons
{
    public const string StoppedByUser = "Stopped by the user.";

    public const string SupersededByEdit = "Superseded: the message it answered was edited.";
}

/// <summary>The run is not in a state that allows the request; the message says why.</summary>
public sealed class RunStateException(Guid runId, string message) : Exception(message)
{
    public Guid RunId { get; } = runId;
}

/// <summary>Sent to whichever node executes the run; it cancels the run's work.</summary>
public sealed record RunCancellationRequested(Guid SessionId, Guid RunId);

public sealed class RunAlreadyEndedException(Guid runId)
    : Exception($"Run {runId} has already ended; there is nothing to stop.")
{
    public Guid RunId { get; } = runId;
}
