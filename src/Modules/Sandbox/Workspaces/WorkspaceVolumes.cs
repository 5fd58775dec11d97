using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Conclave.Sandbox.Contracts;
using Conclave.Sandbox.Telemetry;
using Conclave.Sandbox.Workspaces.Native;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Win32.SafeHandles;

namespace Conclave.Sandbox.Workspaces;

/// <summary>
/// Creates, finds, hands over and removes workspace volumes. Layout under the workspace root (0700):
/// <c>volumes/&lt;id&gt;.img</c> (the file systems), <c>mounts/&lt;id&gt;</c> (where the Host mounts them;
/// a plain folder in <see cref="WorkspaceIsolation.Folder"/> mode) and <c>sessions/&lt;session&gt;</c>
/// (a small file naming the session's volume). Nothing here walks a tree code can change: handing a
/// warm volume to a session rewrites that one file, removing a volume unmounts it and deletes its image.
/// Among several nodes (ADR 0015) a session's image is mounted only by the node holding the session
/// (<see cref="IMountLease"/>); the others use that mount where they see it and never mount it themselves.
/// </summary>
internal sealed partial class WorkspaceVolumes : IAsyncDisposable
{
    private readonly SandboxOptions _options;
    private readonly VolumeImages _images;
    private readonly ILogger<WorkspaceVolumes> _logger;
    private readonly IMountLease _lease;

    /// <summary>Sessions this node holds, with their volume (mounted, unless it was detached since: checked at each use).</summary>
    private readonly ConcurrentDictionary<Guid, WorkspaceVolume> _held = new();
    private readonly ConcurrentDictionary<Guid, SemaphoreSlim> _sessionLocks = new();

    /// <summary>
    /// Volumes whose mount this node answers for: those it mounted, and a leftover mount it found at the mount point of a
    /// session it holds. Never one it only read through: it unmounts these, and only these.
    /// </summary>
    private readonly ConcurrentDictionary<string, byte> _mounted = new();
    private readonly ConcurrentDictionary<int, byte> _ownersInUse = new();
    private readonly SemaphoreSlim _mountGate = new(1, 1);
    private readonly object _recoveryLock = new();
    private Task? _recovery;

    public WorkspaceVolumes(IOptions<SandboxOptions> options, ILogger<WorkspaceVolumes> logger, IMountLease? lease = null)
    {
        _options = options.Value;
        _logger = logger;
        _lease = lease ?? new SoleNodeLease();
        _images = new VolumeImages(_options);
        Isolation = _options.WorkspaceIsolation ?? Detect();
        var configured = Path.GetFullPath(_options.WorkspaceRoot
            ?? throw new InvalidOperationException("Conclave:Sandbox:WorkspaceRoot is not set."));
        Directory.CreateDirectory(configured);
        LinuxFiles.SetMode(configured, 0b111_000_000);
        Root = new DirectoryInfo(configured).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? configured;
        _daemonRoot = _options.WorkspaceHostRoot is { Length: > 0 } hostRoot ? hostRoot : Root;
        VolumesRoot = Path.Join(Root, "volumes");
        MountsRoot = Path.Join(Root, "mounts");
        SessionsRoot = Path.Join(Root, "sessions");
        foreach (var folder in new[] { VolumesRoot, MountsRoot, SessionsRoot })
        {
            Directory.CreateDirectory(folder);
        }
    }

    private readonly string _daemonRoot;

    /// <summary>The real path of the workspace root.</summary>
    public string Root { get; }

    private string VolumesRoot { get; }

    private string MountsRoot { get; }

    private string SessionsRoot { get; }

    public WorkspaceIsolation Isolation { get; }

    /// <summary>True when the kernel enforces each workspace's bytes and entries.</summary>
    public bool QuotaEnforcedByKernel => Isolation == WorkspaceIsolation.FileSystemPerSession;

    /// <summary>How far past the quota code can write before the kernel stops it.</summary>
    public long QuotaSlackBytes => QuotaEnforcedByKernel ? _images.Slack : 0;

    /// <summary>The volume's folder as the Docker daemon sees it, for the bind mount.</summary>
    public string DaemonPath(WorkspaceVolume volume) => Path.Join(_daemonRoot, Path.GetRelativePath(Root, volume.MountPath));

    /// <summary>
    /// The session's volume, mounted; null when the session has none yet. When another node holds the session, its
    /// volume through that node's mount (<see cref="BorrowAsync"/>).
    /// </summary>
    /// <exception cref="SandboxUnavailableException">Another node holds the session, and its mount is not visible here.</exception>
    public async Task<WorkspaceVolume?> FindAsync(Guid sessionId, CancellationToken ct)
    {
        await RecoveredAsync(ct);
        if (!_held.ContainsKey(sessionId) && await ReadSessionFileAsync(sessionId, ct) is null)
        {
            return null; // no workspace yet: nothing to mount, nobody to ask
        }
        if (await _lease.HolderElsewhereAsync(sessionId, ct) is { } holder)
        {
            return await BorrowAsync(sessionId, holder, ct);
        }
        if (_held.TryGetValue(sessionId, out var known) && IsMounted(known))
        {
            return known;
        }
        var gate = SessionLock(sessionId);
        await gate.WaitAsync(ct);
        try
        {
            return await LoadAsync(sessionId, ct);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>The session's volume, created when it has none (by the node holding the session only).</summary>
    public async Task<WorkspaceVolume> EnsureAsync(Guid sessionId, CancellationToken ct)
    {
        await RecoveredAsync(ct);
        if (await _lease.HolderElsewhereAsync(sessionId, ct) is { } holder)
        {
            return await BorrowAsync(sessionId, holder, ct)
                ?? throw new SandboxUnavailableException($"Node {holder} holds session {sessionId}'s sandbox and has not made its workspace yet; try again in a moment.");
        }
        if (_held.TryGetValue(sessionId, out var known) && IsMounted(known))
        {
            return known;
        }
        var gate = SessionLock(sessionId);
        await gate.WaitAsync(ct);
        try
        {
            if (await LoadAsync(sessionId, ct) is { } existing)
            {
                return existing;
            }
            var volume = await CreateAsync(ct);
            WriteSessionFile(sessionId, volume.Id);
            _held[sessionId] = volume;
            return volume;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>A new volume for a warm container, owned by a uid no other known volume has.</summary>
    public async Task<WorkspaceVolume> CreateUnassignedAsync(CancellationToken ct)
    {
        await RecoveredAsync(ct);
        return await CreateAsync(ct);
    }

    /// <summary>
    /// Makes a warm container's (empty) volume the session's. When the session already has files that only
    /// the Host wrote (uploads: regular files and folders), they are copied into the warm volume first.
    /// Refused (false) when code has used the session's volume (its tree is hostile: it needs a container
    /// of its own), while an upload streams into it, or when another node holds the session.
    /// </summary>
    public async Task<bool> TryClaimAsync(WorkspaceVolume warm, Guid sessionId, CancellationToken ct)
    {
        await RecoveredAsync(ct);
        if (await _lease.HolderElsewhereAsync(sessionId, ct) is not null)
        {
            return false;
        }
        var gate = SessionLock(sessionId);
        await gate.WaitAsync(ct);
        try
        {
            var existing = await LoadAsync(sessionId, ct);
            if (existing is not null)
            {
                if (!existing.TryRetire())
                {
                    return false;
                }
                if (!IsEmpty(existing))
                {
                    if (WasUsedByCode(existing))
                    {
                        existing.Reinstate();
                        return false;
                    }
                    try
                    {
                        using var from = OpenRoot(existing);
                        using var to = OpenRoot(warm);
                        WorkspaceTree.CopyTree(from, to, warm.OwnerUid, _options.WorkspaceMaxEntries);
                    }
                    catch
                    {
                        existing.Reinstate();
                        throw;
                    }
                }
            }
            WriteSessionFile(sessionId, warm.Id);
            _held[sessionId] = warm;
            if (existing is not null)
            {
                await DestroyAsync(existing);
            }
            return true;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// The session's volume with a write begun on it, created when it has none. Waits out a claim that is
    /// replacing the volume, so no write lands in one about to go.
    /// </summary>
    public async Task<(WorkspaceVolume Volume, IDisposable Write)> BeginWriteAsync(Guid sessionId, bool create, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            var volume = create ? await EnsureAsync(sessionId, ct) : await FindAsync(sessionId, ct);
            if (volume is null)
            {
                throw new WorkspaceFileNotFoundException("");
            }
            if (volume.TryBeginWrite() is { } write)
            {
                return (volume, write);
            }
            if (attempt > 100)
            {
                throw new SandboxUnavailableException($"The workspace of session {sessionId} is being replaced; try again.");
            }
            // A claim holds the session's lock while it replaces the volume: wait for it to finish.
            var gate = SessionLock(sessionId);
            await gate.WaitAsync(ct);
            gate.Release();
        }
    }

    /// <summary>Notes that code gets this volume (a container mounts it): from then on its tree is hostile.</summary>
    public void MarkUsedByCode(WorkspaceVolume volume)
    {
        var marker = ImagePath(volume.Id) + ".used";
        if (!File.Exists(marker))
        {
            File.WriteAllText(marker, "");
        }
    }

    private bool WasUsedByCode(WorkspaceVolume volume) => File.Exists(ImagePath(volume.Id) + ".used");

    /// <summary>Removes the session's volume with every file in it (its container must be gone already); by the node holding the session only.</summary>
    public async Task RemoveSessionAsync(Guid sessionId, CancellationToken ct)
    {
        await RecoveredAsync(ct);
        if (await _lease.HolderElsewhereAsync(sessionId, ct) is { } holder)
        {
            throw new SandboxUnavailableException($"Node {holder} holds session {sessionId}'s sandbox: only it may remove the workspace.");
        }
        var gate = SessionLock(sessionId);
        await gate.WaitAsync(ct);
        try
        {
            var volume = await LoadAsync(sessionId, ct, mount: false);
            File.Delete(SessionFile(sessionId));
            _held.TryRemove(sessionId, out _);
            if (volume is not null)
            {
                await DestroyAsync(volume);
            }
        }
        finally
        {
            gate.Release();
            // Not disposed: a late waiter may still hold it.
            _sessionLocks.TryRemove(sessionId, out _);
        }
    }

    /// <summary>Unmounts and deletes a volume no session uses (a warm container's, after its container went).</summary>
    public async Task DestroyAsync(WorkspaceVolume volume)
    {
        try
        {
            if (Isolation == WorkspaceIsolation.FileSystemPerSession)
            {
                if (_mounted.TryRemove(volume.Id, out _) || IsMountPoint(volume.MountPath))
                {
                    VolumeImages.Unmount(volume.MountPath);
                }
                File.Delete(ImagePath(volume.Id));
                File.Delete(ImagePath(volume.Id) + ".used");
                Directory.Delete(volume.MountPath);
            }
            else
            {
                using var mounts = LinuxFiles.Open(MountsRoot, LinuxFiles.OPath | LinuxFiles.ODirectory);
                WorkspaceTree.DeleteEntry(mounts, volume.Id);
                File.Delete(ImagePath(volume.Id) + ".used");
            }

            File.Delete(NodeFile(volume.Id));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or SandboxUnavailableException)
        {
            Log.VolumeRemoveFailed(_logger, e, volume.Id);
        }
        finally
        {
            _ownersInUse.TryRemove(volume.OwnerUid, out _);
        }
    }

    /// <summary>
    /// The root of the volume, as a descriptor every workspace operation resolves beneath. Checked to be
    /// the mounted file system itself, never the empty folder under a mount that went away.
    /// </summary>
    public SafeFileHandle OpenRoot(WorkspaceVolume volume)
    {
        var root = LinuxFiles.Open(volume.MountPath, LinuxFiles.OPath | LinuxFiles.ODirectory | LinuxFiles.ONoFollow);
        if (Isolation == WorkspaceIsolation.FileSystemPerSession && !LinuxFiles.Stat(root).IsMountRoot)
        {
            root.Dispose();
            throw new SandboxUnavailableException($"The workspace volume {volume.Id} is not mounted.");
        }
        return root;
    }

    /// <summary>True when nothing but the volume's root is in it.</summary>
    public bool IsEmpty(WorkspaceVolume volume)
    {
        using var root = OpenRoot(volume);
        using var directory = LinuxFiles.OpenAt(root, ".", LinuxFiles.ORdOnly | LinuxFiles.ODirectory, LinuxFiles.Contained);
        return !LinuxFiles.ReadDirectory(directory).Any();
    }

    /// <summary>Space used and left, in bytes and entries.</summary>
    public WorkspaceUsage Usage(WorkspaceVolume volume)
    {
        using var root = OpenRoot(volume);
        if (QuotaEnforcedByKernel)
        {
            var space = LinuxFiles.Space(root);
            return new WorkspaceUsage(space.TotalBytes - space.AvailableBytes, space.TotalEntries - space.FreeEntries - 1,
                _options.WorkspaceQuotaBytes, _options.WorkspaceMaxEntries);
        }
        var walk = WorkspaceTree.Walk(root, (int)Math.Min(int.MaxValue - 1, _options.WorkspaceMaxEntries + 1));
        return new WorkspaceUsage(walk.Bytes, walk.Entries, _options.WorkspaceQuotaBytes, _options.WorkspaceMaxEntries);
    }

    /// <summary>
    /// Once, before anything else here: volumes no session names are a previous process's warm ones
    /// (or half-made) and are removed; mounts a previous process left are kept and used again.
    /// </summary>
    public Task RecoveredAsync(CancellationToken ct)
    {
        lock (_recoveryLock)
        {
            if (_recovery is null || _recovery.IsFaulted)
            {
                _recovery = RecoverAsync();
            }
            return _recovery.WaitAsync(ct);
        }
    }

    private Task RecoverAsync() => RemoveUnnamedAsync(MadeHere, CancellationToken.None);

    /// <summary>
    /// Removes the volumes a node that is gone made and no session names (its warm ones, ADR 0015), unmounting them
    /// where it left them mounted; its containers must be gone already.
    /// </summary>
    public async Task RemoveLeftoversOfAsync(string nodeId, CancellationToken ct)
    {
        await RecoveredAsync(ct);
        await RemoveUnnamedAsync(id => MadeBy(id) == nodeId, ct);
    }

    private async Task RemoveUnnamedAsync(Func<string, bool> made, CancellationToken ct)
    {
        var named = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(SessionsRoot))
        {
            if (File.ReadAllText(file).Trim() is { Length: 32 } id && IsHex(id))
            {
                named.Add(id);
            }
        }
        var leftovers = Directory.EnumerateDirectories(MountsRoot).Select(Path.GetFileName)
            .Concat(Directory.EnumerateFiles(VolumesRoot, "*.img").Select(Path.GetFileNameWithoutExtension))
            .Concat(Directory.EnumerateFiles(VolumesRoot, "*.img.used").Select(f => Path.GetFileName(f)[..^".img.used".Length]))
            .Concat(Directory.EnumerateFiles(VolumesRoot, "*.node").Select(Path.GetFileNameWithoutExtension))
            .OfType<string>()
            .Where(id => !named.Contains(id) && made(id))
            .Distinct(StringComparer.Ordinal)
            .ToList();
        foreach (var id in leftovers)
        {
            ct.ThrowIfCancellationRequested();
            await DestroyAsync(new WorkspaceVolume(id, MountPath(id), -1));
        }
    }

    /// <summary>
    /// Whether this node made the volume (ADR 0015): nodes sharing a workspace root each clean up only
    /// their own unnamed volumes; another node's may be a warm one in use. A volume from before volumes
    /// were marked counts as this node's (one node per root then).
    /// </summary>
    private bool MadeHere(string id) => MadeBy(id) is not { } node || node == _options.NodeId;

    /// <summary>The node that made the volume, or null for a volume from before volumes were marked.</summary>
    private string? MadeBy(string id)
    {
        try
        {
            return File.ReadAllText(NodeFile(id)).Trim();
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    private string NodeFile(string id) => Path.Join(VolumesRoot, id + ".node");

    private async Task<WorkspaceVolume?> LoadAsync(Guid sessionId, CancellationToken ct, bool mount = true)
    {
        if (_held.TryGetValue(sessionId, out var known))
        {
            if (mount)
            {
                await EnsureMountedAsync(known.Id, ct);
            }
            return known;
        }
        if (await ReadSessionFileAsync(sessionId, ct) is not { } id)
        {
            return null;
        }
        if (mount)
        {
            await EnsureMountedAsync(id, ct);
        }
        var volume = new WorkspaceVolume(id, MountPath(id), OwnerOrNone(id));
        _ownersInUse.TryAdd(volume.OwnerUid, 0);
        if (mount)
        {
            _held[sessionId] = volume;
        }
        return volume;
    }

    /// <summary>
    /// A session another node holds: its volume through that node's mount, which every node on the same machine sees.
    /// Never mounted here and never remembered (the holder may detach or replace it at any time). Refused where that
    /// mount is not visible (another machine): a mount of this node's beside the holder's would corrupt the image.
    /// </summary>
    private async Task<WorkspaceVolume?> BorrowAsync(Guid sessionId, string holder, CancellationToken ct)
    {
        if (await ReadSessionFileAsync(sessionId, ct) is not { } id)
        {
            return null;
        }
        if (Isolation == WorkspaceIsolation.FileSystemPerSession && !IsMountPoint(MountPath(id)))
        {
            throw new SandboxUnavailableException(
                $"Node {holder} holds session {sessionId}'s sandbox and mounts its workspace, and that mount is not visible on this node (only the holder may mount it); its files are reachable through node {holder} and through runs.");
        }
        return new WorkspaceVolume(id, MountPath(id), OwnerOrNone(id));
    }

    /// <summary>The volume id the session's record names, or null when the session has no workspace yet.</summary>
    private async Task<string?> ReadSessionFileAsync(Guid sessionId, CancellationToken ct)
    {
        string id;
        try
        {
            id = (await File.ReadAllTextAsync(SessionFile(sessionId), ct)).Trim();
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        if (id.Length != 32 || !IsHex(id))
        {
            throw new InvalidDataException($"The workspace record of session {sessionId} is damaged.");
        }
        return id;
    }

    private int OwnerOrNone(string id) =>
        Isolation == WorkspaceIsolation.FileSystemPerSession || Directory.Exists(MountPath(id)) ? OwnerOf(MountPath(id)) : -1;

    private bool IsMounted(WorkspaceVolume volume) =>
        Isolation != WorkspaceIsolation.FileSystemPerSession || IsMountPoint(volume.MountPath);

    private async Task<WorkspaceVolume> CreateAsync(CancellationToken ct)
    {
        var id = Guid.NewGuid().ToString("N");
        var owner = AllocateOwner();
        var mountPath = MountPath(id);
        // First, so another node sharing the root never takes a volume being made here for a leftover.
        await File.WriteAllTextAsync(NodeFile(id), _options.NodeId, ct);
        Directory.CreateDirectory(mountPath);
        try
        {
            if (Isolation == WorkspaceIsolation.FileSystemPerSession)
            {
                await _mountGate.WaitAsync(ct);
                try
                {
                    await _images.CreateAsync(ImagePath(id), owner, ct);
                    _images.Mount(ImagePath(id), mountPath);
                    _mounted[id] = 0;
                }
                finally
                {
                    _mountGate.Release();
                }
                RemoveLostAndFound(mountPath);
            }
            else
            {
                // Without a file system of its own the sandbox user must be able to write here, and the
                // Host (maybe not root) must be able to remove what it made.
                LinuxFiles.SetMode(mountPath, 0b111_111_111);
                if (CanChown)
                {
                    using var folder = LinuxFiles.Open(mountPath, LinuxFiles.ORdOnly | LinuxFiles.ODirectory);
                    LinuxFiles.ChangeOwner(folder, owner, owner);
                }
            }
        }
        catch
        {
            await DestroyAsync(new WorkspaceVolume(id, mountPath, owner));
            throw;
        }
        return new WorkspaceVolume(id, mountPath, CanChown || QuotaEnforcedByKernel ? owner : OwnerOf(mountPath));
    }

    /// <summary>
    /// Mounts the volume of a session this node holds, unless it is mounted now: looked at each time, never taken from
    /// memory, as a node that lost the session may have detached it meanwhile. A mount found there (a previous
    /// process's, or a dead node's) is this node's to answer for from now on: it holds the session.
    /// </summary>
    private async Task EnsureMountedAsync(string id, CancellationToken ct)
    {
        if (Isolation != WorkspaceIsolation.FileSystemPerSession)
        {
            return;
        }
        var mountPath = MountPath(id);
        if (IsMountPoint(mountPath))
        {
            _mounted.TryAdd(id, 0);
            return;
        }
        await _mountGate.WaitAsync(ct);
        try
        {
            if (!IsMountPoint(mountPath))
            {
                if (!File.Exists(ImagePath(id)))
                {
                    throw new InvalidDataException($"The workspace volume {id} has no image.");
                }
                Directory.CreateDirectory(mountPath);
                await _images.MountExistingAsync(ImagePath(id), mountPath, ct);
            }
            _mounted[id] = 0;
        }
        finally
        {
            _mountGate.Release();
        }
    }

    /// <summary>
    /// This node no longer holds the session (stopped, taken over, leaving): it forgets the session and detaches its
    /// mount, if that mount is this node's to answer for. Remove the session's container first.
    /// </summary>
    public async Task ReleaseAsync(Guid sessionId, CancellationToken ct)
    {
        var gate = SessionLock(sessionId);
        await gate.WaitAsync(ct);
        try
        {
            if (_held.TryRemove(sessionId, out var volume) && _mounted.TryRemove(volume.Id, out _))
            {
                VolumeImages.Unmount(volume.MountPath);
            }
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>The sessions this node holds as far as it knows (another node may have taken one over since).</summary>
    public IReadOnlyCollection<Guid> HeldSessions => [.. _held.Keys];

    private int AllocateOwner()
    {
        if (!QuotaEnforcedByKernel && !CanChown)
        {
            return (int)geteuid();
        }
        for (var attempt = 0; ; attempt++)
        {
            var uid = _options.SandboxUidBase + Random.Shared.Next(_options.SandboxUidCount);
            if (_ownersInUse.TryAdd(uid, 0) || attempt > 100)
            {
                return uid;
            }
        }
    }

    private static void RemoveLostAndFound(string mountPath)
    {
        using var root = LinuxFiles.Open(mountPath, LinuxFiles.OPath | LinuxFiles.ODirectory);
        try
        {
            LinuxFiles.UnlinkAt(root, "lost+found", isDirectory: true);
        }
        catch (FileSystemCallException e) when (e.Errno == LinuxFiles.Enoent)
        {
        }
    }

    private static int OwnerOf(string path)
    {
        using var handle = LinuxFiles.Open(path, LinuxFiles.OPath | LinuxFiles.ODirectory | LinuxFiles.ONoFollow);
        return LinuxFiles.Stat(handle).Uid;
    }

    private static bool IsMountPoint(string path)
    {
        try
        {
            using var handle = LinuxFiles.Open(path, LinuxFiles.OPath | LinuxFiles.ODirectory | LinuxFiles.ONoFollow);
            return LinuxFiles.Stat(handle).IsMountRoot;
        }
        catch (FileSystemCallException)
        {
            return false;
        }
    }

    private void WriteSessionFile(Guid sessionId, string volumeId)
    {
        var target = SessionFile(sessionId);
        var temporary = target + ".new";
        File.WriteAllText(temporary, volumeId);
        File.Move(temporary, target, overwrite: true);
    }

    private SemaphoreSlim SessionLock(Guid sessionId) => _sessionLocks.GetOrAdd(sessionId, _ => new SemaphoreSlim(1, 1));

    private string SessionFile(Guid sessionId) => Path.Join(SessionsRoot, sessionId.ToString("N"));

    private string MountPath(string id) => Path.Join(MountsRoot, id);

    private string ImagePath(string id) => Path.Join(VolumesRoot, id + ".img");

    private static bool IsHex(string text) => text.All(Uri.IsHexDigit);

    /// <summary>Giving files to another uid takes CAP_CHOWN (root has it; a non-root Host may be granted it).</summary>
    private static bool CanChown => HasCapability(0);

    /// <summary>Mounting takes CAP_SYS_ADMIN.</summary>
    private static bool CanMount => HasCapability(21);

    /// <summary>Whether the process holds a capability now (bit <paramref name="number"/> of CapEff in /proc/self/status).</summary>
    private static bool HasCapability(int number)
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("CapEff:", StringComparison.Ordinal));
        return line is not null
            && ulong.TryParse(line["CapEff:".Length..].Trim(), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture, out var effective)
            && (effective & (1UL << number)) != 0;
    }

    /// <summary>A file system per session needs CAP_SYS_ADMIN (root has it), loop devices and e2fsprogs.</summary>
    private static WorkspaceIsolation Detect() =>
        CanMount && File.Exists("/dev/loop-control") && FindProgram("mkfs.ext4") && FindProgram("e2fsck")
            ? WorkspaceIsolation.FileSystemPerSession
            : WorkspaceIsolation.Folder;

    private static bool FindProgram(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin")
            .Split(':').Append("/usr/sbin").Append("/sbin")
            .Any(folder => File.Exists(Path.Join(folder, name)));

    public async ValueTask DisposeAsync()
    {
        if (Isolation != WorkspaceIsolation.FileSystemPerSession)
        {
            return;
        }
        // Only the mounts this node answers for: never one it merely read through while another node held the session.
        foreach (var id in _mounted.Keys)
        {
            try
            {
                VolumeImages.Unmount(MountPath(id));
                _mounted.TryRemove(id, out _);
            }
            catch (SandboxUnavailableException e)
            {
                Log.VolumeRemoveFailed(_logger, e, id);
            }
        }
    }

    [LibraryImport("libc")]
    private static partial uint geteuid();
}

/// <param name="UsedBytes">Including the file system's own bookkeeping for folders.</param>
internal readonly record struct WorkspaceUsage(long UsedBytes, long UsedEntries, long QuotaBytes, long QuotaEntries);
