namespace Conclave.Sandbox.Workspaces;

/// <summary>
/// The storage behind one /workspace: a file system of its own (or, where that cannot be had, a
/// folder), owned by the host uid its sandbox runs as. A warm container's volume has no session until
/// it is claimed; a session keeps its volume when its container is reaped.
/// </summary>
internal sealed class WorkspaceVolume(string id, string mountPath, int ownerUid)
{
    private int activeWrites;

    /// <summary>32 hex digits; names the image and the mount point.</summary>
    public string Id { get; } = id;

    /// <summary>Where the Host has it (a mount point, or the folder itself).</summary>
    public string MountPath { get; } = mountPath;

    /// <summary>The host uid (and gid) the sandbox using this volume runs as; its files belong to it.</summary>
    public int OwnerUid { get; } = ownerUid;

    /// <summary>Uploads streaming into it now: such a volume is never swapped for a warm one.</summary>
    public bool HasActiveWrites => Volatile.Read(ref activeWrites) > 0;

    public IDisposable BeginWrite()
    {
        Interlocked.Increment(ref activeWrites);
        return new WriteScope(this);
    }

    private sealed class WriteScope(WorkspaceVolume volume) : IDisposable
    {
        private int disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref disposed, 1) == 0)
            {
                Interlocked.Decrement(ref volume.activeWrites);
            }
        }
    }
}
