namespace Conclave.Sandbox.Contracts;

/// <summary>
/// The files of a session's workspace (mounted at /workspace in its sandbox). Paths are relative
/// to the workspace, with '/' separators. Anything that would leave the workspace, including
/// through a symlink created by code, throws <see cref="WorkspacePathException"/> and touches nothing.
/// </summary>
public interface IWorkspace
{
    /// <summary>Regular files, recursively, ordered by path. Symlinks are not followed.</summary>
    Task<IReadOnlyList<WorkspaceFile>> ListAsync(Guid sessionId, CancellationToken ct = default);

    /// <exception cref="WorkspaceFileNotFoundException">No such file.</exception>
    Task<Stream> OpenReadAsync(Guid sessionId, string path, CancellationToken ct = default);

    /// <summary>Creates or replaces a file (and its parent folders).</summary>
    /// <exception cref="WorkspaceQuotaExceededException">The workspace would exceed its quota; nothing was written.</exception>
    Task<WorkspaceFile> WriteAsync(Guid sessionId, string path, Stream content, CancellationToken ct = default);

    /// <exception cref="WorkspaceFileNotFoundException">No such file.</exception>
    Task DeleteAsync(Guid sessionId, string path, CancellationToken ct = default);
}

/// <param name="Path">Relative to the workspace, '/'-separated, e.g. <c>outputs/plot-1.png</c>.</param>
public sealed record WorkspaceFile(string Path, long SizeBytes, DateTimeOffset LastModified);
