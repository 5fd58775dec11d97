using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Conclave.Sandbox.Workspaces.Native;

/// <summary>
/// The few Linux file-system calls the Host needs to work inside a workspace without ever following a
/// path that sandbox code controls: <c>openat2</c> with <c>RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS</c>,
/// and the <c>*at</c> family relative to directory descriptors. Every call throws
/// <see cref="FileSystemCallException"/> with the errno on failure.
/// </summary>
internal static partial class LinuxFiles
{
    // Flags that differ between architectures (arm64 moved O_DIRECTORY and O_NOFOLLOW).
    private static readonly bool Arm64 = RuntimeInformation.ProcessArchitecture == Architecture.Arm64;

    public const int ORdOnly = 0;
    public const int OWrOnly = 1;
    public const int ORdWr = 2;
    public const int OCreat = 0x40;
    public const int OExcl = 0x80;
    public const int ONonBlock = 0x800;
    public const int OCloExec = 0x80000;
    public const int OPath = 0x200000;
    public static readonly int ODirectory = Arm64 ? 0x4000 : 0x10000;
    public static readonly int ONoFollow = Arm64 ? 0x8000 : 0x20000;
    public static readonly int OTmpFile = 0x400000 | ODirectory;

    public const ulong ResolveNoXdev = 0x01;
    public const ulong ResolveNoMagicLinks = 0x02;
    public const ulong ResolveNoSymlinks = 0x04;
    public const ulong ResolveBeneath = 0x08;

    /// <summary>Beneath the directory, on its file system, through no symlink of any kind.</summary>
    public const ulong Contained = ResolveBeneath | ResolveNoSymlinks | ResolveNoMagicLinks | ResolveNoXdev;

    public const int AtFdCwd = -100;
    public const int AtSymlinkNoFollow = 0x100;
    public const int AtRemoveDir = 0x200;
    public const int AtSymlinkFollow = 0x400;
    public const int AtEmptyPath = 0x1000;

    public const int Enoent = 2;
    public const int Eintr = 4;
    public const int Enxio = 6;
    public const int Eagain = 11;
    public const int Eacces = 13;
    public const int Eexist = 17;
    public const int Exdev = 18;
    public const int Enotdir = 20;
    public const int Eisdir = 21;
    public const int Enospc = 28;
    public const int Enametoolong = 36;
    public const int Enotempty = 39;
    public const int Eloop = 40;
    public const int Edquot = 122;

    private const long SysOpenat2 = 437; // the same number on every architecture (added after the unification)

    [StructLayout(LayoutKind.Sequential)]
    private struct OpenHow
    {
        public ulong Flags;
        public ulong Mode;
        public ulong Resolve;
    }

    /// <summary>openat2(2): opens <paramref name="path"/> relative to <paramref name="directory"/> under <paramref name="resolve"/> rules.</summary>
    public static SafeFileHandle OpenAt(SafeFileHandle directory, string path, int flags, ulong resolve, int mode = 0)
    {
        var how = new OpenHow { Flags = (ulong)(uint)(flags | OCloExec), Mode = (ulong)mode, Resolve = resolve };
        var bytes = Utf8(path);
        long fd;
        var added = false;
        try
        {
            directory.DangerousAddRef(ref added);
            do
            {
                fd = syscall(SysOpenat2, (int)directory.DangerousGetHandle(), bytes, ref how, (nuint)Marshal.SizeOf<OpenHow>());
            }
            while (fd < 0 && Marshal.GetLastPInvokeError() == Eintr);
        }
        finally
        {
            if (added)
            {
                directory.DangerousRelease();
            }
        }
        if (fd < 0)
        {
            throw new FileSystemCallException("openat2", Marshal.GetLastPInvokeError(), path);
        }
        return new SafeFileHandle((IntPtr)fd, ownsHandle: true);
    }

    /// <summary>open(2) of a path the Host itself controls (a mount point, the workspace root).</summary>
    public static SafeFileHandle Open(string path, int flags)
    {
        var fd = open(Utf8(path), flags | OCloExec, 0);
        if (fd < 0)
        {
            throw new FileSystemCallException("open", Marshal.GetLastPInvokeError(), path);
        }
        return new SafeFileHandle(fd, ownsHandle: true);
    }

    public static FileStatus Stat(SafeFileHandle handle) => StatAt(handle, "", AtEmptyPath);

    /// <summary>statx(2) of an entry of <paramref name="directory"/>, not following a symlink.</summary>
    public static FileStatus StatAt(SafeFileHandle directory, string name, int flags = AtSymlinkNoFollow)
    {
        var buffer = new byte[256];
        var result = WithFd(directory, fd => statx(fd, Utf8(name), flags, StatxBasicStats | StatxMountId, buffer));
        if (result < 0)
        {
            throw new FileSystemCallException("statx", Marshal.GetLastPInvokeError(), name);
        }
        return FileStatus.FromStatx(buffer);
    }

    /// <summary>mkdirat(2); false when the name already exists (of whatever kind).</summary>
    public static bool MakeDirectoryAt(SafeFileHandle directory, string name, int mode)
    {
        if (WithFd(directory, fd => mkdirat(fd, Utf8(name), mode)) == 0)
        {
            return true;
        }
        var errno = Marshal.GetLastPInvokeError();
        return errno == Eexist ? false : throw new FileSystemCallException("mkdirat", errno, name);
    }

    public static void UnlinkAt(SafeFileHandle directory, string name, bool isDirectory)
    {
        if (WithFd(directory, fd => unlinkat(fd, Utf8(name), isDirectory ? AtRemoveDir : 0)) != 0)
        {
            throw new FileSystemCallException("unlinkat", Marshal.GetLastPInvokeError(), name);
        }
    }

    public static void RenameAt(SafeFileHandle fromDirectory, string from, SafeFileHandle toDirectory, string to)
    {
        var result = WithFd(fromDirectory, a => WithFd(toDirectory, b => renameat2(a, Utf8(from), b, Utf8(to), 0)));
        if (result != 0)
        {
            throw new FileSystemCallException("renameat2", Marshal.GetLastPInvokeError(), to);
        }
    }

    /// <summary>Gives an O_TMPFILE file a name (through its /proc/self/fd link, which needs no privilege).</summary>
    public static void LinkTempFile(SafeFileHandle file, SafeFileHandle directory, string name)
    {
        var source = $"/proc/self/fd/{file.DangerousGetHandle()}";
        if (WithFd(directory, fd => linkat(AtFdCwd, Utf8(source), fd, Utf8(name), AtSymlinkFollow)) != 0)
        {
            throw new FileSystemCallException("linkat", Marshal.GetLastPInvokeError(), name);
        }
    }

    public static void ChangeOwner(SafeFileHandle handle, int uid, int gid)
    {
        if (WithFd(handle, fd => fchown(fd, uid, gid)) != 0)
        {
            throw new FileSystemCallException("fchown", Marshal.GetLastPInvokeError(), "");
        }
    }

    public static void ChangeMode(SafeFileHandle handle, int mode)
    {
        if (WithFd(handle, fd => fchmod(fd, mode)) != 0)
        {
            throw new FileSystemCallException("fchmod", Marshal.GetLastPInvokeError(), "");
        }
    }

    /// <summary>chmod(2) of a path the Host controls (the workspace root, an image file).</summary>
    public static void SetMode(string path, int mode)
    {
        if (chmod(Utf8(path), mode) != 0)
        {
            throw new FileSystemCallException("chmod", Marshal.GetLastPInvokeError(), path);
        }
    }

    /// <summary>fstatfs(2): space and entries of the file system the handle is on.</summary>
    public static FileSystemSpace Space(SafeFileHandle handle)
    {
        var buffer = new long[16];
        if (WithFd(handle, fd => fstatfs(fd, buffer)) != 0)
        {
            throw new FileSystemCallException("fstatfs", Marshal.GetLastPInvokeError(), "");
        }
        // struct statfs on 64-bit Linux: type, bsize, blocks, bfree, bavail, files, ffree, fsid, namelen, frsize, flags.
        var blockSize = buffer[1];
        return new FileSystemSpace(buffer[2] * blockSize, buffer[4] * blockSize, buffer[5], buffer[6]);
    }

    /// <summary>The entries of an open directory, read with getdents64(2) in bounded batches.</summary>
    public static IEnumerable<DirectoryEntry> ReadDirectory(SafeFileHandle directory)
    {
        var buffer = new byte[32 * 1024];
        while (true)
        {
            var read = WithFd(directory, fd => (int)getdents64(fd, buffer, (nuint)buffer.Length));
            if (read < 0)
            {
                throw new FileSystemCallException("getdents64", Marshal.GetLastPInvokeError(), "");
            }
            if (read == 0)
            {
                yield break;
            }
            for (var offset = 0; offset < read;)
            {
                var length = BitConverter.ToUInt16(buffer, offset + 16);
                var type = buffer[offset + 18];
                var nameStart = offset + 19;
                var nameEnd = Array.IndexOf(buffer, (byte)0, nameStart, length - 19);
                var name = Encoding.UTF8.GetString(buffer, nameStart, (nameEnd < 0 ? offset + length : nameEnd) - nameStart);
                offset += length;
                if (name is not ("." or ".."))
                {
                    yield return new DirectoryEntry(name, (EntryKind)type);
                }
            }
        }
    }

    private const int StatxBasicStats = 0x7ff;
    private const int StatxMountId = 0x1000;

    private static byte[] Utf8(string value)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(value) + 1];
        Encoding.UTF8.GetBytes(value, bytes);
        return bytes;
    }

    private static T WithFd<T>(SafeFileHandle handle, Func<int, T> call)
    {
        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            return call((int)handle.DangerousGetHandle());
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial long syscall(long number, int dirfd, byte[] path, ref OpenHow how, nuint size);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int open(byte[] path, int flags, int mode);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int statx(int dirfd, byte[] path, int flags, int mask, [Out] byte[] buffer);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int mkdirat(int dirfd, byte[] path, int mode);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int unlinkat(int dirfd, byte[] path, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int renameat2(int olddirfd, byte[] oldpath, int newdirfd, byte[] newpath, uint flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int linkat(int olddirfd, byte[] oldpath, int newdirfd, byte[] newpath, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fchown(int fd, int owner, int group);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fchmod(int fd, int mode);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int chmod(byte[] path, int mode);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fstatfs(int fd, [Out] long[] buffer);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint getdents64(int fd, [Out] byte[] buffer, nuint count);
}

/// <summary>A failed system call, with its errno.</summary>
internal sealed class FileSystemCallException(string call, int errno, string path)
    : IOException($"{call}({Printable(path)}) failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})")
{
    public int Errno { get; } = errno;

    private static string Printable(string path) => new(path.Take(120).Select(c => char.IsControl(c) ? '?' : c).ToArray());
}

/// <summary>The d_type of a directory entry (DT_*).</summary>
internal enum EntryKind : byte
{
    Unknown = 0,
    Fifo = 1,
    CharacterDevice = 2,
    Directory = 4,
    BlockDevice = 6,
    RegularFile = 8,
    Symlink = 10,
    Socket = 12,
}

internal readonly record struct DirectoryEntry(string Name, EntryKind Kind);

internal readonly record struct FileSystemSpace(long TotalBytes, long AvailableBytes, long TotalEntries, long FreeEntries);

/// <summary>What statx(2) said about a file.</summary>
/// <param name="Device">The file system's device (major in the high 32 bits); with <paramref name="Inode"/>, which file this is.</param>
internal readonly record struct FileStatus(int Mode, int Uid, int Gid, long Size, DateTimeOffset Modified, bool IsMountRoot, ulong MountId, ulong Inode, ulong Device)
{
    private const int TypeMask = 0xF000;
    private const ulong AttrMountRoot = 0x2000;

    public bool IsRegularFile => (Mode & TypeMask) == 0x8000;

    public bool IsDirectory => (Mode & TypeMask) == 0x4000;

    /// <summary>What kind of thing this is, in words for an error message.</summary>
    public string Kind => (Mode & TypeMask) switch
    {
        0x8000 => "a file",
        0x4000 => "a folder",
        0xA000 => "a symbolic link",
        0x1000 => "a FIFO (named pipe)",
        0xC000 => "a socket",
        0x2000 => "a character device",
        0x6000 => "a block device",
        _ => "not a regular file",
    };

    public static FileStatus FromStatx(byte[] b)
    {
        var attributes = BitConverter.ToUInt64(b, 8);
        var seconds = BitConverter.ToInt64(b, 112);
        var nanoseconds = BitConverter.ToUInt32(b, 120);
        return new FileStatus(
            Mode: BitConverter.ToUInt16(b, 28),
            Uid: (int)BitConverter.ToUInt32(b, 20),
            Gid: (int)BitConverter.ToUInt32(b, 24),
            Size: (long)BitConverter.ToUInt64(b, 40),
            Modified: DateTimeOffset.FromUnixTimeSeconds(seconds).AddTicks(nanoseconds / 100),
            IsMountRoot: (attributes & AttrMountRoot) != 0,
            MountId: BitConverter.ToUInt64(b, 144),
            Inode: BitConverter.ToUInt64(b, 32),
            Device: ((ulong)BitConverter.ToUInt32(b, 136) << 32) | BitConverter.ToUInt32(b, 140));
    }
}
