using Conclave.Sandbox.Contracts;
using Conclave.Sandbox.Workspaces.Native;
using Microsoft.Win32.SafeHandles;

namespace Conclave.Sandbox.Workspaces;

/// <summary>
/// Operations beneath a workspace root descriptor that code in the sandbox can race: every path is
/// resolved by the kernel beneath the root, on its file system, through no symlink
/// (<see cref="LinuxFiles.Contained"/>); walks go from descriptor to descriptor and are bounded in
/// depth and in entries, so loops, swaps and millions of entries cost a bounded amount.
/// </summary>
internal static class WorkspaceTree
{
    /// <summary>Folders deeper than this are neither listed nor deleted through the Host.</summary>
    public const int MaxDepth = 64;

    private const int FileMode = 0b110_110_100;   // 0664
    private const int FolderMode = 0b111_111_101; // 0775

    /// <summary>Opens a regular file for reading; FIFOs, sockets, devices and folders are refused at once.</summary>
    public static SafeFileHandle OpenFile(SafeFileHandle root, string[] segments, string shownPath)
    {
        SafeFileHandle file;
        try
        {
            // O_NONBLOCK: opening a FIFO must not wait for a writer.
            file = LinuxFiles.OpenAt(root, string.Join('/', segments), LinuxFiles.ORdOnly | LinuxFiles.ONonBlock | LinuxFiles.ONoFollow, LinuxFiles.Contained);
        }
        catch (FileSystemCallException e) when (e.Errno == LinuxFiles.Enxio)
        {
            // A socket cannot be opened at all; say what it is.
            using var entry = LinuxFiles.OpenAt(root, string.Join('/', segments), LinuxFiles.OPath | LinuxFiles.ONoFollow, LinuxFiles.Contained);
            throw new WorkspacePathException(shownPath, $"it is {LinuxFiles.Stat(entry).Kind}, not a file that can be read");
        }
        catch (FileSystemCallException e)
        {
            throw Translate(e, shownPath);
        }
        var status = LinuxFiles.Stat(file);
        if (!status.IsRegularFile)
        {
            file.Dispose();
            throw new WorkspacePathException(shownPath, $"it is {status.Kind}, not a file that can be read");
        }
        return file;
    }

    /// <summary>
    /// Creates or replaces a file with <paramref name="content"/>, all or nothing: the bytes go into an
    /// unnamed file on the workspace's own file system (so its quota counts them and code never sees a
    /// half-written file), which then takes the name in one rename.
    /// </summary>
    public static async Task<WorkspaceFile> WriteFileAsync(SafeFileHandle root, string[] segments, Stream content, int ownerUid, long room, long quota, CancellationToken ct)
    {
        var shownPath = string.Join('/', segments);
        using var parent = OpenOrCreateFolders(root, segments[..^1], ownerUid, shownPath, quota);
        var name = segments[^1];
        // A file being replaced gives its bytes back once the new one takes its name.
        room += ExistingFileSize(parent, name);
        SafeFileHandle file;
        try
        {
            file = LinuxFiles.OpenAt(parent, ".", LinuxFiles.OTmpFile | LinuxFiles.ORdWr, LinuxFiles.Contained, FileMode);
        }
        catch (FileSystemCallException e)
        {
            throw Translate(e, shownPath, quota);
        }
        using (file)
        await using (var target = new FileStream(file, FileAccess.ReadWrite, bufferSize: 0))
        {
            // The stream owns the descriptor from here: everything below happens before it is closed.
            var written = await CopyWithLimitAsync(content, target, room, quota, ct);
            if (ownerUid >= 0)
            {
                TryChangeOwner(file, ownerUid);
            }
            LinuxFiles.ChangeMode(file, FileMode);
            var temporary = $".conclave-upload-{Guid.NewGuid():N}";
            LinuxFiles.LinkTempFile(file, parent, temporary);
            try
            {
                LinuxFiles.RenameAt(parent, temporary, parent, name);
            }
            catch (FileSystemCallException e)
            {
                LinuxFiles.UnlinkAt(parent, temporary, isDirectory: false);
                throw e.Errno is LinuxFiles.Eisdir or LinuxFiles.Enotempty or LinuxFiles.Eexist
                    ? new WorkspacePathException(shownPath, "it is a folder")
                    : Translate(e, shownPath, quota);
            }
            return new WorkspaceFile(shownPath, written, LinuxFiles.Stat(file).Modified);
        }
    }

    /// <summary>Deletes a file, a link (never its target) or a folder with everything in it.</summary>
    public static void Delete(SafeFileHandle root, string[] segments)
    {
        var shownPath = string.Join('/', segments);
        SafeFileHandle parent;
        try
        {
            parent = segments.Length == 1
                ? LinuxFiles.OpenAt(root, ".", LinuxFiles.OPath | LinuxFiles.ODirectory, LinuxFiles.Contained)
                : LinuxFiles.OpenAt(root, string.Join('/', segments[..^1]), LinuxFiles.OPath | LinuxFiles.ODirectory | LinuxFiles.ONoFollow, LinuxFiles.Contained);
        }
        catch (FileSystemCallException e)
        {
            throw Translate(e, shownPath);
        }
        using (parent)
        {
            try
            {
                DeleteEntry(parent, segments[^1], segments.Length);
            }
            catch (FileSystemCallException e)
            {
                throw Translate(e, shownPath);
            }
        }
    }

    /// <summary>Deletes one entry of an open folder, recursively for a folder (bounded by <see cref="MaxDepth"/>).</summary>
    public static void DeleteEntry(SafeFileHandle parent, string name, int depth = 1)
    {
        var status = LinuxFiles.StatAt(parent, name);
        if (!status.IsDirectory)
        {
            LinuxFiles.UnlinkAt(parent, name, isDirectory: false);
            return;
        }
        if (depth > MaxDepth)
        {
            throw new WorkspacePathException(name, $"it holds folders nested deeper than {MaxDepth} levels; delete them from code, or delete the session");
        }
        // Code may keep adding entries while we delete: a few rounds, then give up.
        for (var round = 0; ; round++)
        {
            using (var folder = LinuxFiles.OpenAt(parent, name, LinuxFiles.ORdOnly | LinuxFiles.ODirectory | LinuxFiles.ONoFollow | LinuxFiles.ONonBlock, LinuxFiles.Contained))
            {
                foreach (var entry in LinuxFiles.ReadDirectory(folder).ToList())
                {
                    try
                    {
                        if (entry.Kind == EntryKind.Directory || entry.Kind == EntryKind.Unknown)
                        {
                            DeleteEntry(folder, entry.Name, depth + 1);
                        }
                        else
                        {
                            LinuxFiles.UnlinkAt(folder, entry.Name, isDirectory: false);
                        }
                    }
                    catch (FileSystemCallException e) when (e.Errno == LinuxFiles.Enoent)
                    {
                    }
                }
            }
            try
            {
                LinuxFiles.UnlinkAt(parent, name, isDirectory: true);
                return;
            }
            catch (FileSystemCallException e) when (e.Errno == LinuxFiles.Enotempty && round < 3)
            {
            }
        }
    }

    /// <summary>
    /// Copies the folders and regular files of one root into another (empty) one, owned by <paramref name="ownerUid"/>.
    /// Only for a tree the Host wrote itself (uploads); bounded in depth and entries all the same.
    /// </summary>
    public static void CopyTree(SafeFileHandle from, SafeFileHandle to, int ownerUid, long maxEntries)
    {
        var budget = maxEntries;
        using var source = LinuxFiles.OpenAt(from, ".", LinuxFiles.ORdOnly | LinuxFiles.ODirectory, LinuxFiles.Contained);
        using var target = LinuxFiles.OpenAt(to, ".", LinuxFiles.OPath | LinuxFiles.ODirectory, LinuxFiles.Contained);
        CopyFolder(source, target, ownerUid, 1, ref budget);
    }

    private static void CopyFolder(SafeFileHandle source, SafeFileHandle target, int ownerUid, int depth, ref long budget)
    {
        foreach (var entry in LinuxFiles.ReadDirectory(source).ToList())
        {
            if (--budget < 0)
            {
                throw new InvalidOperationException("The workspace holds more entries than its quota allows.");
            }
            var status = LinuxFiles.StatAt(source, entry.Name);
            if (status.IsDirectory && depth < MaxDepth)
            {
                LinuxFiles.MakeDirectoryAt(target, entry.Name, FolderMode);
                using (var created = LinuxFiles.OpenAt(target, entry.Name, LinuxFiles.ORdOnly | LinuxFiles.ODirectory | LinuxFiles.ONoFollow, LinuxFiles.Contained))
                {
                    TryChangeOwner(created, ownerUid);
                }
                using var from = LinuxFiles.OpenAt(source, entry.Name, LinuxFiles.ORdOnly | LinuxFiles.ODirectory | LinuxFiles.ONoFollow, LinuxFiles.Contained);
                using var to = LinuxFiles.OpenAt(target, entry.Name, LinuxFiles.OPath | LinuxFiles.ODirectory | LinuxFiles.ONoFollow, LinuxFiles.Contained);
                CopyFolder(from, to, ownerUid, depth + 1, ref budget);
            }
            else if (status.IsRegularFile)
            {
                using var input = new FileStream(
                    LinuxFiles.OpenAt(source, entry.Name, LinuxFiles.ORdOnly | LinuxFiles.ONonBlock | LinuxFiles.ONoFollow, LinuxFiles.Contained), FileAccess.Read, 1 << 20);
                var created = LinuxFiles.OpenAt(target, entry.Name, LinuxFiles.OWrOnly | LinuxFiles.OCreat | LinuxFiles.OExcl | LinuxFiles.ONoFollow, LinuxFiles.Contained, FileMode);
                TryChangeOwner(created, ownerUid);
                using var output = new FileStream(created, FileAccess.Write, 0);
                input.CopyTo(output, 1 << 20);
            }
        }
    }

    /// <summary>The regular files beneath the root (links, FIFOs, sockets and devices are left out), bounded.</summary>
    public static TreeWalk Walk(SafeFileHandle root, int maxEntries, int maxFiles = int.MaxValue)
    {
        var walk = new TreeWalk(maxEntries, maxFiles);
        using var top = LinuxFiles.OpenAt(root, ".", LinuxFiles.ORdOnly | LinuxFiles.ODirectory, LinuxFiles.Contained);
        walk.Visit(top, "", 1);
        walk.Files.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        return walk;
    }

    internal sealed class TreeWalk(int maxEntries, int maxFiles)
    {
        public List<WorkspaceFile> Files { get; } = [];

        public long Bytes { get; private set; }

        public int Entries { get; private set; }

        /// <summary>True when the walk stopped at a bound (entries, files or depth) before seeing everything.</summary>
        public bool Truncated { get; private set; }

        public void Visit(SafeFileHandle folder, string prefix, int depth)
        {
            List<DirectoryEntry> entries;
            try
            {
                entries = LinuxFiles.ReadDirectory(folder).Take(maxEntries - Entries + 1).ToList();
            }
            catch (FileSystemCallException)
            {
                return; // removed while we walk: code is running
            }
            foreach (var entry in entries)
            {
                if (++Entries > maxEntries || Files.Count >= maxFiles)
                {
                    Truncated = true;
                    return;
                }
                try
                {
                    var status = LinuxFiles.StatAt(folder, entry.Name);
                    if (status.IsRegularFile)
                    {
                        Files.Add(new WorkspaceFile(prefix + entry.Name, status.Size, status.Modified));
                        Bytes += status.Size;
                    }
                    else if (status.IsDirectory)
                    {
                        if (depth >= MaxDepth)
                        {
                            Truncated = true;
                            continue;
                        }
                        using var child = LinuxFiles.OpenAt(folder, entry.Name, LinuxFiles.ORdOnly | LinuxFiles.ODirectory | LinuxFiles.ONoFollow | LinuxFiles.ONonBlock, LinuxFiles.Contained);
                        Visit(child, prefix + entry.Name + "/", depth + 1);
                    }
                }
                catch (FileSystemCallException)
                {
                    // Gone, swapped for a link, or unreadable: not listed.
                }
            }
        }
    }

    private static SafeFileHandle OpenOrCreateFolders(SafeFileHandle root, string[] folders, int ownerUid, string shownPath, long quota)
    {
        var current = LinuxFiles.OpenAt(root, ".", LinuxFiles.OPath | LinuxFiles.ODirectory, LinuxFiles.Contained);
        try
        {
            foreach (var folder in folders)
            {
                if (LinuxFiles.MakeDirectoryAt(current, folder, FolderMode) && ownerUid >= 0)
                {
                    using var created = LinuxFiles.OpenAt(current, folder, LinuxFiles.ORdOnly | LinuxFiles.ODirectory | LinuxFiles.ONoFollow, LinuxFiles.Contained);
                    TryChangeOwner(created, ownerUid);
                    LinuxFiles.ChangeMode(created, FolderMode);
                }
                SafeFileHandle next;
                try
                {
                    next = LinuxFiles.OpenAt(current, folder, LinuxFiles.OPath | LinuxFiles.ODirectory | LinuxFiles.ONoFollow, LinuxFiles.Contained);
                }
                catch (FileSystemCallException e) when (e.Errno is LinuxFiles.Enotdir or LinuxFiles.Eloop)
                {
                    var inTheWay = LinuxFiles.StatAt(current, folder);
                    throw new WorkspacePathException(shownPath, inTheWay.Kind == "a symbolic link"
                        ? "it goes through a symbolic link, which the Host never follows"
                        : $"'{folder}' is {inTheWay.Kind}, not a folder");
                }
                current.Dispose();
                current = next;
            }
            return current;
        }
        catch (FileSystemCallException e)
        {
            current.Dispose();
            throw Translate(e, shownPath, quota);
        }
    }

    private static long ExistingFileSize(SafeFileHandle parent, string name)
    {
        try
        {
            var status = LinuxFiles.StatAt(parent, name);
            return status.IsRegularFile ? status.Size : 0;
        }
        catch (FileSystemCallException)
        {
            return 0;
        }
    }

    private static void TryChangeOwner(SafeFileHandle handle, int uid)
    {
        try
        {
            LinuxFiles.ChangeOwner(handle, uid, uid);
        }
        catch (FileSystemCallException)
        {
            // Not root (a folder workspace): the file keeps the Host's uid and mode 0664/0775.
        }
    }

    private static async Task<long> CopyWithLimitAsync(Stream source, Stream target, long room, long quota, CancellationToken ct)
    {
        var buffer = new byte[256 * 1024];
        long total = 0;
        int read;
        while ((read = await source.ReadAsync(buffer, ct)) > 0)
        {
            total += read;
            if (total > room)
            {
                throw new WorkspaceQuotaExceededException(quota, quota - room + total);
            }
            try
            {
                await target.WriteAsync(buffer.AsMemory(0, read), ct);
            }
            catch (IOException e) when (e.HResult is LinuxFiles.Enospc or LinuxFiles.Edquot || e.Message.Contains("space", StringComparison.OrdinalIgnoreCase))
            {
                throw WorkspaceQuotaExceededException.Full(quota);
            }
        }
        return total;
    }

    /// <summary>What a failed resolution means for the user.</summary>
    private static Exception Translate(FileSystemCallException e, string shownPath, long quota = 0) => e.Errno switch
    {
        LinuxFiles.Enoent or LinuxFiles.Enotdir => new WorkspaceFileNotFoundException(shownPath),
        LinuxFiles.Eloop => new WorkspacePathException(shownPath, "it goes through a symbolic link, which the Host never follows"),
        LinuxFiles.Exdev => new WorkspacePathException(shownPath, "it leads outside the workspace"),
        LinuxFiles.Enametoolong => new WorkspacePathException(shownPath, "it is too long"),
        LinuxFiles.Eacces => new WorkspacePathException(shownPath, "the Host may not open it (code changed its permissions)"),
        LinuxFiles.Enospc or LinuxFiles.Edquot => WorkspaceQuotaExceededException.Full(quota),
        _ => e,
    };
}
