using System.Collections.Concurrent;
using Conclave.Sandbox.Contracts;
using Conclave.Sandbox.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Conclave.Sandbox.Workspaces;

/// <summary>
/// The folders on the Host behind /workspace: <c>&lt;root&gt;/&lt;session&gt;</c> per session,
/// <c>&lt;root&gt;/.pool/&lt;sandbox&gt;</c> for warm containers (renamed into place when claimed, see
/// docs/adr/0002-sandbox-warm-pool.md) and <c>&lt;root&gt;/.staging</c> for uploads in progress.
/// The root is 0700 (other Host users stay out); the folders below are 0777 because the container's
/// user (65534) must write them and the Host must be able to remove what that user created.
/// </summary>
internal sealed class WorkspaceFolders
{
    private const UnixFileMode Shared = (UnixFileMode)0b111_111_111;
    private const string ClaimSuffix = ".claim";

    private readonly ConcurrentDictionary<Guid, SemaphoreSlim> layoutLocks = new();
    private readonly ILogger<WorkspaceFolders> logger;
    private readonly string daemonRoot;

    public WorkspaceFolders(IOptions<SandboxOptions> options, ILogger<WorkspaceFolders> logger)
    {
        this.logger = logger;
        var configured = Path.GetFullPath(options.Value.WorkspaceRoot
            ?? throw new InvalidOperationException("Conclave:Sandbox:WorkspaceRoot is not set."));
        Directory.CreateDirectory(configured);
        SetMode(configured, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Root = WorkspacePath.RealPath(configured, configured) ?? configured;
        daemonRoot = options.Value.WorkspaceHostRoot is { Length: > 0 } hostRoot ? hostRoot : Root;
        PoolRoot = Path.Join(Root, ".pool");
        StagingRoot = Path.Join(Root, ".staging");
        Directory.CreateDirectory(PoolRoot);
        Directory.CreateDirectory(StagingRoot);
    }

    /// <summary>The real path of the workspace root (no symlinks).</summary>
    public string Root { get; }

    public string PoolRoot { get; }

    public string StagingRoot { get; }

    public string SessionDirectory(Guid sessionId) => Path.Join(Root, sessionId.ToString("N"));

    /// <summary>The same folder as the Docker daemon sees it, for a bind mount.</summary>
    public string DaemonPath(string directory) => Path.Join(daemonRoot, Path.GetRelativePath(Root, directory));

    /// <summary>Serialises changes to a session folder's place on disk (claims, uploads, deletes).</summary>
    public SemaphoreSlim LayoutLock(Guid sessionId) => layoutLocks.GetOrAdd(sessionId, _ => new SemaphoreSlim(1, 1));

    public string EnsureSessionDirectory(Guid sessionId)
    {
        var directory = SessionDirectory(sessionId);
        if (!Directory.Exists(directory))
        {
            CreateShared(directory);
        }
        return directory;
    }

    public string CreatePoolDirectory(Guid sandboxId)
    {
        var directory = Path.Join(PoolRoot, sandboxId.ToString("N"));
        CreateShared(directory);
        return directory;
    }

    /// <summary>
    /// Makes a warm container's (empty) folder the session's workspace. The container's bind mount
    /// follows the folder, not its name, so a rename on the same file system hands it over atomically.
    /// Files the session already has are moved into the warm folder first (renames, so cheap).
    /// Caller holds <see cref="LayoutLock"/>.
    /// </summary>
    public string Claim(string poolDirectory, Guid sessionId)
    {
        var sessionDirectory = SessionDirectory(sessionId);
        var marker = poolDirectory + ClaimSuffix;
        File.WriteAllText(marker, sessionId.ToString("N"));
        FinishClaim(poolDirectory, sessionDirectory);
        File.Delete(marker);
        return sessionDirectory;
    }

    /// <summary>Completes claims a crash interrupted, so no session is left with its files split in two.</summary>
    public void RecoverClaims()
    {
        foreach (var marker in Directory.EnumerateFiles(PoolRoot, "*" + ClaimSuffix))
        {
            var poolDirectory = marker[..^ClaimSuffix.Length];
            if (Guid.TryParseExact(File.ReadAllText(marker).Trim(), "N", out var sessionId) && Directory.Exists(poolDirectory))
            {
                FinishClaim(poolDirectory, SessionDirectory(sessionId));
                Log.ClaimRecovered(logger, sessionId);
            }
            File.Delete(marker);
        }
    }

    /// <summary>Deletes warm folders no live container uses (left by a previous process).</summary>
    public void RemovePoolDirectoriesExcept(IReadOnlySet<string> inUse)
    {
        foreach (var directory in Directory.EnumerateDirectories(PoolRoot))
        {
            if (!inUse.Contains(directory) && !File.Exists(directory + ClaimSuffix))
            {
                DeleteQuietly(directory);
            }
        }
        foreach (var staged in Directory.EnumerateFiles(StagingRoot))
        {
            if (File.GetLastWriteTimeUtc(staged) < DateTime.UtcNow.AddHours(-1))
            {
                File.Delete(staged);
            }
        }
    }

    /// <summary>Deletes the session's folder; caller holds <see cref="LayoutLock"/> and then calls <see cref="ForgetLayoutLock"/>.</summary>
    public void DeleteSession(Guid sessionId) => DeleteQuietly(SessionDirectory(sessionId));

    /// <summary>Drops a removed session's lock (not disposed: a late waiter may still hold a reference).</summary>
    public void ForgetLayoutLock(Guid sessionId) => layoutLocks.TryRemove(sessionId, out _);

    public void DeleteQuietly(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning(e, "Could not delete {Directory}", directory);
        }
    }

    /// <summary>Total size of the regular files under <paramref name="directory"/> (symlinks not followed).</summary>
    public static long UsageBytes(string directory) => EnumerateFiles(directory).Sum(f => f.Length);

    /// <summary>
    /// After code ran: when the workspace is over quota, deletes the files written since
    /// <paramref name="sinceUtc"/>, largest first, until it fits. Returns what was deleted.
    /// </summary>
    public IReadOnlyList<string> EnforceQuota(Guid sessionId, long quotaBytes, DateTime sinceUtc)
    {
        var directory = SessionDirectory(sessionId);
        var files = EnumerateFiles(directory).ToList();
        var usage = files.Sum(f => f.Length);
        var removed = new List<string>();
        foreach (var file in files.Where(f => f.LastWriteTimeUtc >= sinceUtc).OrderByDescending(f => f.Length))
        {
            if (usage <= quotaBytes)
            {
                break;
            }
            try
            {
                file.Delete();
                usage -= file.Length;
                removed.Add(Path.GetRelativePath(directory, file.FullName).Replace('\\', '/'));
            }
            catch (IOException)
            {
                // Still being written by code that is being killed: it goes next time.
            }
        }
        if (removed.Count > 0)
        {
            Log.QuotaEnforced(logger, sessionId, string.Join(", ", removed));
        }
        return removed;
    }

    /// <summary>Regular files under a folder, without following symlinks (a link to / must not be walked).</summary>
    public static IEnumerable<FileInfo> EnumerateFiles(string directory)
    {
        if (!Directory.Exists(directory))
        {
            yield break;
        }
        var pending = new Stack<DirectoryInfo>();
        pending.Push(new DirectoryInfo(directory));
        while (pending.Count > 0)
        {
            IEnumerable<FileSystemInfo> entries;
            try
            {
                entries = pending.Pop().EnumerateFileSystemInfos().ToList();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue; // removed or renamed while we walk: code is running
            }
            foreach (var entry in entries)
            {
                if (entry.LinkTarget is not null)
                {
                    continue;
                }
                if (entry is DirectoryInfo child)
                {
                    pending.Push(child);
                }
                else if (entry is FileInfo file)
                {
                    yield return file;
                }
            }
        }
    }

    /// <summary>Creates a folder (and missing parents) the sandbox user can write.</summary>
    public static void CreateShared(string directory)
    {
        var missing = new Stack<string>();
        for (var d = directory; !Directory.Exists(d); d = Path.GetDirectoryName(d)!)
        {
            missing.Push(d);
        }
        while (missing.TryPop(out var d))
        {
            Directory.CreateDirectory(d);
            SetMode(d, Shared);
        }
    }

    /// <summary>Sandboxes run on Linux hosts; on others (a developer's Windows box) modes do not apply.</summary>
    public static void SetMode(string path, UnixFileMode mode)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, mode);
        }
    }

    private static void FinishClaim(string poolDirectory, string sessionDirectory)
    {
        if (Directory.Exists(sessionDirectory))
        {
            // Entries can only appear here under the layout lock, which the caller holds.
            foreach (var entry in new DirectoryInfo(sessionDirectory).EnumerateFileSystemInfos())
            {
                var target = Path.Join(poolDirectory, entry.Name);
                if (entry is DirectoryInfo && entry.LinkTarget is null)
                {
                    Directory.Move(entry.FullName, target);
                }
                else
                {
                    File.Move(entry.FullName, target, overwrite: true);
                }
            }
            Directory.Delete(sessionDirectory);
        }
        Directory.Move(poolDirectory, sessionDirectory);
    }
}
