namespace Conclave.Sandbox.Contracts;

/// <summary>
/// Long-running programs in a session's sandbox that the Host talks to over stdin and stdout, e.g. a local MCP
/// server: they run in the session's container (created on first use), as its user, under its limits, in
/// /workspace, and never on the Host. The caller has already checked that the user owns the session.
/// </summary>
public interface ISandboxProcesses
{
    /// <summary>Starts <paramref name="command"/> (the program and its arguments, no shell) in the session's container.</summary>
    /// <exception cref="ArgumentException">The command is empty or too long.</exception>
    /// <exception cref="SandboxUnavailableException">The container engine cannot run the sandbox, or the program could not start.</exception>
    Task<ISandboxProcess> StartAsync(Guid sessionId, IReadOnlyList<string> command, CancellationToken ct = default);
}

/// <summary>A program started by <see cref="ISandboxProcesses"/>. Disposing it closes its stdin (and so, usually, the program).</summary>
public interface ISandboxProcess : IAsyncDisposable
{
    /// <summary>The program's stdin.</summary>
    Stream Input { get; }

    /// <summary>The program's stdout; it ends when the program or its container does. Stderr goes to the Host's log, bounded.</summary>
    Stream Output { get; }
}
