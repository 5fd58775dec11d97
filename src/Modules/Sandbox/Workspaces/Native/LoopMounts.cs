using System.Runtime.InteropServices;
using System.Text;

namespace Conclave.Sandbox.Workspaces.Native;

/// <summary>
/// Mounts an image file through a loop device with the kernel's own calls (LOOP_CTL_GET_FREE,
/// LOOP_CONFIGURE, mount(2), umount2(2)) rather than mount(8): no process per mount, and it works for
/// a non-root Host that holds CAP_SYS_ADMIN (util-linux refuses option mounts to non-root users).
/// The loop device clears itself when the last mount of it goes (LO_FLAGS_AUTOCLEAR).
/// </summary>
internal static partial class LoopMounts
{
    private const ulong LoopCtlGetFree = 0x4C82;
    private const ulong LoopConfigure = 0x4C0A;
    private const ulong LoopClrFd = 0x4C01;
    private const uint LoFlagsAutoclear = 4;
    private const int Ebusy = 16;

    public const ulong NoSuid = 2;
    public const ulong NoDev = 4;
    public const ulong NoExec = 8;
    public const ulong NoAtime = 1024;
    private const int MntDetach = 2;
    private const int Einval = 22;

    /// <summary>struct loop_config: fd, block_size, struct loop_info64 (232 bytes), 8 reserved u64.</summary>
    [StructLayout(LayoutKind.Sequential, Size = 304)]
    private struct LoopConfig
    {
        public uint Fd;
        public uint BlockSize;
        public ulong Device;
        public ulong Inode;
        public ulong RDevice;
        public ulong Offset;
        public ulong SizeLimit;
        public uint Number;
        public uint EncryptType;
        public uint EncryptKeySize;
        public uint Flags;
    }

    /// <summary>
    /// The loop device <paramref name="image"/> is attached to now, if any. With autoclear, a device stays attached
    /// exactly as long as a mount of it lives, including one detached (lazily) that a container or an open file
    /// still holds.
    /// </summary>
    public static string? AttachedDevice(string image)
    {
        var wanted = Identity(image);
        foreach (var device in Directory.EnumerateDirectories("/sys/block", "loop*"))
        {
            string backing;
            try
            {
                backing = File.ReadAllText(Path.Join(device, "loop", "backing_file")).TrimEnd('\n');
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue; // not attached
            }
            // The kernel's path for the file, as this process sees it; compared by identity, not by spelling.
            if (wanted is not null && Identity(backing) == wanted)
            {
                return "/dev/" + Path.GetFileName(device);
            }
        }
        return null;
    }

    private static (ulong Device, ulong Inode)? Identity(string path)
    {
        try
        {
            using var file = LinuxFiles.Open(path, LinuxFiles.OPath | LinuxFiles.ONoFollow);
            var status = LinuxFiles.Stat(file);
            return (status.Device, status.Inode);
        }
        catch (FileSystemCallException)
        {
            return null; // gone (a deleted backing file reads "... (deleted)")
        }
    }

    /// <summary>
    /// Mounts the file system on a loop device already attached (<see cref="AttachedDevice"/>): the kernel gives back
    /// the file system that device carries, so there is still one ext4 instance on the image.
    /// </summary>
    public static void MountAttached(string device, string target, ulong flags)
    {
        if (mount(Utf8(device), Utf8(target), Utf8("ext4"), flags, IntPtr.Zero) != 0)
        {
            throw new FileSystemCallException("mount", Marshal.GetLastPInvokeError(), target);
        }
    }

    /// <summary>Attaches <paramref name="image"/> to a free loop device and mounts it as ext4 at <paramref name="target"/>.</summary>
    public static void Mount(string image, string target, ulong flags)
    {
        using var control = LinuxFiles.Open("/dev/loop-control", LinuxFiles.ORdWr);
        using var backing = LinuxFiles.Open(image, LinuxFiles.ORdWr);
        for (var attempt = 0; ; attempt++)
        {
            var number = ioctl((int)control.DangerousGetHandle(), LoopCtlGetFree, IntPtr.Zero);
            if (number < 0)
            {
                throw new FileSystemCallException("ioctl(LOOP_CTL_GET_FREE)", Marshal.GetLastPInvokeError(), "/dev/loop-control");
            }
            var device = $"/dev/loop{number}";
            using var loop = LinuxFiles.Open(device, LinuxFiles.ORdWr);
            var config = new LoopConfig { Fd = (uint)backing.DangerousGetHandle(), Flags = LoFlagsAutoclear };
            if (ioctl((int)loop.DangerousGetHandle(), LoopConfigure, ref config) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == Ebusy && attempt < 20)
                {
                    continue; // another process took that device between the two calls
                }
                throw new FileSystemCallException("ioctl(LOOP_CONFIGURE)", errno, device);
            }
            if (mount(Utf8(device), Utf8(target), Utf8("ext4"), flags, IntPtr.Zero) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                ioctl((int)loop.DangerousGetHandle(), LoopClrFd, IntPtr.Zero);
                throw new FileSystemCallException("mount", errno, target);
            }
            return;
        }
    }

    /// <summary>Detaches the mount (lazily: a container holding it keeps it until it goes). Not mounted is fine.</summary>
    public static void Unmount(string target)
    {
        if (umount2(Utf8(target), MntDetach) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno is not (Einval or LinuxFiles.Enoent))
            {
                throw new FileSystemCallException("umount2", errno, target);
            }
        }
    }

    private static byte[] Utf8(string value)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(value) + 1];
        Encoding.UTF8.GetBytes(value, bytes);
        return bytes;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int ioctl(int fd, ulong request, IntPtr argument);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int ioctl(int fd, ulong request, ref LoopConfig config);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int mount(byte[] source, byte[] target, byte[] type, ulong flags, IntPtr data);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int umount2(byte[] target, int flags);
}
