namespace Conclave.Sandbox.Contracts;

public enum ExecutionStatus
{
    /// <summary>The code ran to the end.</summary>
    Ok,

    /// <summary>The code raised, the kernel died, or the workspace went over its quota; see <see cref="ExecutionResult.Error"/>.</summary>
    Error,

    /// <summary>The code ran longer than its time limit and was interrupted.</summary>
    Timeout,
}

/// <summary>What one execution produced. Output is bounded; <see cref="Truncated"/> says when some was dropped.</summary>
/// <param name="Result">The text/plain value of the last expression, like a notebook's Out[n].</param>
/// <param name="Html">The text/html form of a rich result (e.g. a pandas DataFrame), if any.</param>
/// <param name="Images">Workspace-relative paths of images the code displayed (matplotlib figures), saved under outputs/.</param>
/// <param name="KernelRestarted">True when the kernel had to be replaced: variables from earlier executions are gone.</param>
public sealed record ExecutionResult(
    ExecutionStatus Status,
    string Stdout,
    string Stderr,
    string? Result,
    string? Html,
    IReadOnlyList<string> Images,
    ExecutionError? Error,
    TimeSpan Duration,
    bool Truncated,
    bool KernelRestarted);

/// <param name="Name">Exception type (e.g. <c>ZeroDivisionError</c>), or <c>Timeout</c>, <c>KernelDied</c>, <c>QuotaExceeded</c>.</param>
/// <param name="Traceback">Plain text, without terminal colours.</param>
public sealed record ExecutionError(string Name, string Value, string Traceback);
