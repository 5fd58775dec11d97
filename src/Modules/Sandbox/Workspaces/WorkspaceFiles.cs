using Conclave.Sandbox.Contracts;
using Microsoft.Extensions.Options;

namespace Conclave.Sandbox.Workspaces;

/// <summary>
/// Users' and agents' view of a session's files. Paths are checked for syntax (<see cref="WorkspacePath"/>),
/// then resolved by the kernel beneath the volume's root (<see cref="WorkspaceTree"/>): a symlink, a swap
/// or a FIFO that code made can neither lead the Host elsewhere nor block it.
/// </summary>
internal sealed class WorkspaceFiles(WorkspaceVolumes volumes, IOptions<SandboxOptions> options) : IWorkspace
{
    private const int MaxListedFiles = 10_000;

    public async Task<IReadOnlyList<WorkspaceFile>> ListAsync(Guid sessionId, CancellationToken ct = default)
    {
        if (await volumes.FindAsync(sessionId, ct) is not { } volume)
        {
            return [];
        }
        using var root = volumes.OpenRoot(volume);
        return WorkspaceTree.Walk(root, checked((int)Math.Min(int.MaxValue - 1, options.Value.WorkspaceMaxEntries + 1)), MaxListedFiles).Files;
    }

    public async Task<Stream> OpenReadAsync(Guid sessionId, string path, CancellationToken ct = default)
    {
        var segments = WorkspacePath.Parse(path);
        if (await volumes.FindAsync(sessionId, ct) is not { } volume)
        {
            throw new WorkspaceFileNotFoundException(path);
        }
        using var root = volumes.OpenRoot(volume);
        var file = WorkspaceTree.OpenFile(root, segments, path);
        return new FileStream(file, FileAccess.Read, bufferSize: 64 * 1024);
    }

    public async Task<WorkspaceFile> WriteAsync(Guid sessionId, string path, Stream content, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        var segments = WorkspacePath.Parse(path);
        var (volume, writing) = await volumes.BeginWriteAsync(sessionId, create: true, ct);
        using var _ = writing;
        var quota = options.Value.WorkspaceQuotaBytes;
        var usage = volumes.Usage(volume);
        if (usage.UsedEntries >= usage.QuotaEntries)
        {
            throw WorkspaceQuotaExceededException.Full(quota);
        }
        using var root = volumes.OpenRoot(volume);
        // The Host holds uploads to the quota exactly; the kernel stops code (and this, if it races) at the volume's end.
        return await WorkspaceTree.WriteFileAsync(root, segments, content, volume.OwnerUid, Math.Max(0, quota - usage.UsedBytes), quota, ct);
    }

    public async Task DeleteAsync(Guid sessionId, string path, CancellationToken ct = default)
    {
        var segments = WorkspacePath.Parse(path);
        if (await volumes.FindAsync(sessionId, ct) is null)
        {
            throw new WorkspaceFileNotFoundException(path);
        }
        var (volume, writing) = await volumes.BeginWriteAsync(sessionId, create: false, ct);
        using var _ = writing;
        using var root = volumes.OpenRoot(volume);
        WorkspaceTree.Delete(root, segments);
    }
}
