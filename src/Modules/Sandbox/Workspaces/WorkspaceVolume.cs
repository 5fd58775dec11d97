namespace Conclave.Sandbox.Workspaces;

/// <summary>
/// The storage behind one /workspace: a file system of its own (or, where that cannot be had, a
/// folder), owned by the host uid its sandbox runs as. A warm container's volume has no session until
/// it is claimed; a session keeps its volume when its container is reaped.
/// </summary>
internal sealed class WorkspaceVolume(string id, string mountPath, int ownerUid)
{
    private const int Retired = -1;

    /// <summary>Writes in progress, or <see cref="Retired"/> once the volume is being replaced.</summary>
    private int _writers;

    /// <summary>32 hex digits; names the image and the mount point.</summary>
    public string Id { get; } = id;

    /// <summary>Where the Host has it (a mount point, or the folder itself).</summary>
    public string MountPath { get; } = mountPath;

    /// <summary>The host uid (and gid) the sandbox using this volume runs as; its files belong to it.</summary>
    public int OwnerUid { get; } = ownerUid;

    /// <summary>A write (upload, delete) may go on; null once the volume is retired (look the session's volume up again).</summary>
    public IDisposable? TryBeginWrite()
    {
        while (true)
        {
            var current = Volatile.Read(ref _writers);
            if (current == Retired)
            {
                return null;
            }
            if (Interlocked.CompareExchange(ref _writers, current + 1, current) == current)
            {
                return new WriteScope(this);
            }
        }
    }

    /// <summary>Stops new writes, when none is in progress: the volume is about to be replaced. False while one runs.</summary>
    public bool TryRetire() => Interlocked.CompareExchange(ref _writers, Retired, 0) == 0;

    /// <summary>Takes writes again (the replacement was called off).</summary>
    public void Reinstate() => Interlocked.CompareExchange(ref _writers, 0, Retired);

    private sealed class WriteScope(WorkspaceVolume volume) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Interlocked.Decrement(ref volume._writers);
            }
        }
    }
}
