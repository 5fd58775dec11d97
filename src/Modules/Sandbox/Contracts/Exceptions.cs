namespace Conclave.Sandbox.Contracts;

/// <summary>Base of the workspace errors a caller can show to a user (the Host maps them to 4xx).</summary>
public abstract class WorkspaceException(string message) : Exception(message);

/// <summary>The path is not a safe workspace-relative path (traversal, absolute, encoded, or resolves outside). Maps to 400.</summary>
public sealed class WorkspacePathException(string path, string reason)
    : WorkspaceException($"'{Printable(path)}' is not a valid workspace path: {reason}.")
{
    public string Path { get; } = path;

    private static string Printable(string path) =>
        new(path.Take(200).Select(c => char.IsControl(c) ? '?' : c).ToArray());
}

/// <summary>No such file in the workspace. Maps to 404.</summary>
public sealed class WorkspaceFileNotFoundException(string path)
    : WorkspaceException($"There is no file '{path}' in the workspace.")
{
    public string Path { get; } = path;
}

/// <summary>The write would take the workspace over its quota (bytes or entries). Maps to 413; nothing was written.</summary>
public sealed class WorkspaceQuotaExceededException : WorkspaceException
{
    public WorkspaceQuotaExceededException(long quotaBytes, long wouldUseBytes)
        : base($"The workspace quota is {quotaBytes} bytes; this would use {wouldUseBytes}. Delete files first.")
    {
        QuotaBytes = quotaBytes;
        WouldUseBytes = wouldUseBytes;
    }

    private WorkspaceQuotaExceededException(long quotaBytes, string message)
        : base(message)
    {
        QuotaBytes = quotaBytes;
    }

    public long QuotaBytes { get; }

    /// <summary>What the write would have used, when known.</summary>
    public long? WouldUseBytes { get; }

    /// <summary>The workspace's file system is full (its bytes or its entries).</summary>
    public static WorkspaceQuotaExceededException Full(long quotaBytes) => new(quotaBytes,
        $"The workspace is full (its quota is {quotaBytes} bytes and a limited number of files and folders). Delete files first.");
}

/// <summary>
/// The container engine does not enforce a limit every sandbox must have (memory, processes, CPU, file
/// size, workspace quota), so no session gets a sandbox from it. Maps to 503; <see cref="Exception.Message"/>
/// names the limit and the fix.
/// </summary>
public sealed class SandboxLimitsNotEnforcedException(string message) : Exception(message);

/// <summary>The container engine could not provide a sandbox (engine down, image missing, start failed). Maps to 503.</summary>
public sealed class SandboxUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
