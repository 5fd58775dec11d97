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

/// <summary>The write would take the workspace over its quota. Maps to 413.</summary>
public sealed class WorkspaceQuotaExceededException(long quotaBytes, long wouldUseBytes)
    : WorkspaceException($"The workspace quota is {quotaBytes} bytes; this would use {wouldUseBytes}. Delete files first.")
{
    public long QuotaBytes { get; } = quotaBytes;
    public long WouldUseBytes { get; } = wouldUseBytes;
}

/// <summary>The container engine could not provide a sandbox (engine down, image missing, start failed). Maps to 503.</summary>
public sealed class SandboxUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
