using Conclave.Sandbox.Contracts;
using Microsoft.Extensions.Options;

namespace Conclave.Sandbox.Workspaces;

/// <summary>Users' and agents' view of a session's files; every path goes through <see cref="WorkspacePath"/>.</summary>
internal sealed class WorkspaceFiles(WorkspaceFolders workspaces, IOptions<SandboxOptions> options) : IWorkspace
{
    private const int MaxListedFiles = 10_000;
    private const UnixFileMode SharedFile = (UnixFileMode)0b110_110_110;

    public Task<IReadOnlyList<WorkspaceFile>> ListAsync(Guid sessionId, CancellationToken ct = default)
    {
        var directory = workspaces.SessionDirectory(sessionId);
        IReadOnlyList<WorkspaceFile> files = WorkspaceFolders.EnumerateFiles(directory)
            .Take(MaxListedFiles)
            .Select(f => new WorkspaceFile(
                Path.GetRelativePath(directory, f.FullName),
                f.Length,
                new DateTimeOffset(f.LastWriteTimeUtc, TimeSpan.Zero)))
            .OrderBy(f => f.Path, StringComparer.Ordinal)
            .ToList();
        return Task.FromResult(files);
    }

    public Task<Stream> OpenReadAsync(Guid sessionId, string path, CancellationToken ct = default)
    {
        var full = Resolve(sessionId, path);
        if (Directory.Exists(full))
        {
            throw new WorkspacePathException(path, "it is a folder");
        }
        FileStream stream;
        try
        {
            stream = new FileStream(full, new FileStreamOptions
            {
                Mode = FileMode.Open,
                Access = FileAccess.Read,
                Share = FileShare.ReadWrite | FileShare.Delete,
                Options = FileOptions.Asynchronous | FileOptions.SequentialScan,
            });
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new WorkspaceFileNotFoundException(path);
        }
        try
        {
            WorkspacePath.EnsureOpenedInside(workspaces.SessionDirectory(sessionId), stream.SafeFileHandle, path);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
        return Task.FromResult<Stream>(stream);
    }

    public async Task<WorkspaceFile> WriteAsync(Guid sessionId, string path, Stream content, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        var quota = options.Value.WorkspaceQuotaBytes;
        var full = Resolve(sessionId, path);
        var directory = workspaces.EnsureSessionDirectory(sessionId);
        var replaced = File.Exists(full) ? new FileInfo(full).Length : 0;
        var room = quota - (WorkspaceFolders.UsageBytes(directory) - replaced);

        // Stage outside the session folder: code in the sandbox never sees a half-written upload.
        var staged = Path.Join(workspaces.StagingRoot, Guid.NewGuid().ToString("N"));
        try
        {
            long written;
            await using (var target = new FileStream(staged, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, useAsync: true))
            {
                written = await CopyWithLimitAsync(content, target, room, quota, ct);
            }
            WorkspaceFolders.SetMode(staged, SharedFile);

            var gate = workspaces.LayoutLock(sessionId);
            await gate.WaitAsync(ct);
            try
            {
                // Again under the lock: the folder may have changed while the upload streamed in.
                directory = workspaces.EnsureSessionDirectory(sessionId);
                full = Resolve(sessionId, path);
                if (Directory.Exists(full))
                {
                    throw new WorkspacePathException(path, "it is a folder");
                }
                var parent = Path.GetDirectoryName(full)!;
                WorkspaceFolders.CreateShared(parent);
                WorkspacePath.EnsureInside(directory, parent, path);
                replaced = File.Exists(full) ? new FileInfo(full).Length : 0;
                var usage = WorkspaceFolders.UsageBytes(directory) - replaced + written;
                if (usage > quota)
                {
                    throw new WorkspaceQuotaExceededException(quota, usage);
                }
                File.Move(staged, full, overwrite: true);
            }
            finally
            {
                gate.Release();
            }
            var info = new FileInfo(full);
            return new WorkspaceFile(string.Join('/', WorkspacePath.Parse(path)), info.Length, new DateTimeOffset(info.LastWriteTimeUtc, TimeSpan.Zero));
        }
        finally
        {
            File.Delete(staged);
        }
    }

    public async Task DeleteAsync(Guid sessionId, string path, CancellationToken ct = default)
    {
        var segments = WorkspacePath.Parse(path);
        var directory = workspaces.SessionDirectory(sessionId);
        var gate = workspaces.LayoutLock(sessionId);
        await gate.WaitAsync(ct);
        try
        {
            // The parent must really be inside; the entry itself is removed, never followed, so a
            // symlink that code pointed at /etc/passwd can be deleted without touching its target.
            var full = Path.Join(directory, string.Join('/', segments));
            WorkspacePath.EnsureInside(directory, Path.GetDirectoryName(full)!, path);
            var entry = new FileInfo(full);
            if (entry.LinkTarget is null && Directory.Exists(full))
            {
                Directory.Delete(full, recursive: true);
            }
            else if (entry.Exists || entry.LinkTarget is not null)
            {
                entry.Delete();
            }
            else
            {
                throw new WorkspaceFileNotFoundException(path);
            }
        }
        finally
        {
            gate.Release();
        }
    }

    private string Resolve(Guid sessionId, string path)
    {
        var directory = workspaces.SessionDirectory(sessionId);
        if (!Directory.Exists(directory))
        {
            // No folder yet, so nothing in it can lead elsewhere; the syntax check still applies.
            return Path.Join(directory, string.Join('/', WorkspacePath.Parse(path)));
        }
        return WorkspacePath.Resolve(directory, path);
    }

    private static async Task<long> CopyWithLimitAsync(Stream source, Stream target, long room, long quota, CancellationToken ct)
    {
        var buffer = new byte[81920];
        long total = 0;
        int read;
        while ((read = await source.ReadAsync(buffer, ct)) > 0)
        {
            total += read;
            if (total > room)
            {
                throw new WorkspaceQuotaExceededException(quota, quota - room + total);
            }
            await target.WriteAsync(buffer.AsMemory(0, read), ct);
        }
        return total;
    }
}
