namespace Conclave.Sandbox.Contracts;

/// <summary>
/// Runs untrusted Python for a session in that session's own locked-down container, with a
/// persistent kernel (variables survive between executions). The caller has already checked that
/// the user owns <c>sessionId</c>; this module only sees ids.
/// </summary>
public interface ISandbox
{
    /// <summary>
    /// Executes <paramref name="code"/> in the session's kernel, creating the container on first use.
    /// Executions of one session run one at a time, in call order. Cancelling interrupts the running
    /// code (and kills processes it started) and then throws <see cref="OperationCanceledException"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The code is larger than <see cref="SandboxOptions.MaxCodeBytes"/>.</exception>
    /// <exception cref="SandboxUnavailableException">The container engine cannot run the sandbox.</exception>
    Task<ExecutionResult> ExecuteAsync(Guid sessionId, string code, CancellationToken ct = default) =>
        ExecuteAsync(sessionId, code, null, ct);

    /// <summary>As <see cref="ExecuteAsync(Guid, string, CancellationToken)"/>, with a shorter time limit.</summary>
    /// <param name="timeout">At most <see cref="SandboxOptions.ExecutionTimeout"/>; null means that.</param>
    Task<ExecutionResult> ExecuteAsync(Guid sessionId, string code, TimeSpan? timeout, CancellationToken ct = default);

    /// <summary>Starts a fresh kernel for the session: variables are lost, files stay.</summary>
    Task ResetAsync(Guid sessionId, CancellationToken ct = default);

    /// <summary>Removes the session's container (and everything running in it); files stay.</summary>
    Task StopAsync(Guid sessionId, CancellationToken ct = default);

    /// <summary>Removes the session's container and its workspace with every file in it.</summary>
    Task RemoveSessionAsync(Guid sessionId, CancellationToken ct = default);
}
