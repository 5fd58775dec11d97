using System.Diagnostics;
using System.Globalization;
using Conclave.Sandbox.Contracts;
using Conclave.Sandbox.Workspaces.Native;

namespace Conclave.Sandbox.Workspaces;

/// <summary>
/// A workspace as its own ext4 file system in a sparse image file, loop-mounted on the Host with
/// nosuid, nodev (and noexec): the kernel then enforces the quota in bytes and in entries, whatever
/// code does (docs/adr/0007-sandbox-threat-model.md). Needs CAP_SYS_ADMIN and loop devices.
/// </summary>
internal sealed class VolumeImages(SandboxOptions options)
{
    /// <summary>Bytes an inode takes in the inode table.</summary>
    private const long InodeBytes = 256;

    /// <summary>What the image adds to the quota for ext4's own metadata; the kernel stops writes at the quota plus at most <see cref="Slack"/>.</summary>
    public long Slack => options.WorkspaceQuotaBytes / 32 + 2L * 1024 * 1024;

    private long ImageBytes => options.WorkspaceQuotaBytes + options.WorkspaceMaxEntries * InodeBytes + Slack;

    /// <summary>Creates the image (sparse: it takes disk space only as files are written) owned by <paramref name="uid"/>.</summary>
    public async Task CreateAsync(string imagePath, int uid, CancellationToken ct)
    {
        await using (var image = new FileStream(imagePath, FileMode.CreateNew, FileAccess.Write))
        {
            image.SetLength(ImageBytes);
        }
        LinuxFiles.SetMode(imagePath, 0b110_000_000);
        await RunAsync("mkfs.ext4", ct,
            "-q", "-F", "-m", "0", "-L", "conclave-ws",
            "-N", options.WorkspaceMaxEntries.ToString(CultureInfo.InvariantCulture),
            "-O", "^has_journal,^resize_inode",
            "-E", $"root_owner={uid}:{uid},lazy_itable_init=1,nodiscard",
            imagePath);
    }

    /// <summary>
    /// Mounts an existing image, repairing it first if its Host died while it was in use. When a detached mount of it
    /// still lives (a container holds it), that same file system is mounted again instead: a second loop device, or a
    /// repair, beside a live ext4 instance would corrupt the image.
    /// </summary>
    public async Task MountExistingAsync(string imagePath, string mountPoint, CancellationToken ct)
    {
        if (LoopMounts.AttachedDevice(imagePath) is { } live)
        {
            try
            {
                LoopMounts.MountAttached(live, mountPoint, Flags);
                return;
            }
            catch (FileSystemCallException) when (LoopMounts.AttachedDevice(imagePath) is null)
            {
                // Its last holder let go meanwhile and the device cleared itself: nothing lives on the image any more.
            }
            catch (FileSystemCallException e)
            {
                throw new SandboxUnavailableException($"Could not mount the workspace volume {Path.GetFileName(imagePath)} again where it lives on: {e.Message}", e);
            }
        }
        // There is no journal: repair what can be repaired without asking (exit codes 0-2 mean clean or fixed).
        await RunAsync("e2fsck", ct, okExitCodes: [0, 1, 2], "-p", imagePath);
        Mount(imagePath, mountPoint);
    }

    private ulong Flags => LoopMounts.NoSuid | LoopMounts.NoDev | LoopMounts.NoAtime | (options.WorkspaceNoExec ? LoopMounts.NoExec : 0);

    /// <summary>Mounts an image nosuid, nodev (and noexec unless configured off).</summary>
    public void Mount(string imagePath, string mountPoint)
    {
        try
        {
            LoopMounts.Mount(imagePath, mountPoint, Flags);
        }
        catch (FileSystemCallException e)
        {
            throw new SandboxUnavailableException($"Could not mount the workspace volume {Path.GetFileName(imagePath)}: {e.Message}", e);
        }
    }

    /// <summary>Detaches the mount; a container still holding it keeps it until it goes (lazy unmount).</summary>
    public static void Unmount(string mountPoint)
    {
        try
        {
            LoopMounts.Unmount(mountPoint);
        }
        catch (FileSystemCallException e)
        {
            throw new SandboxUnavailableException($"Could not unmount {mountPoint}: {e.Message}", e);
        }
    }

    private static Task RunAsync(string program, CancellationToken ct, params string[] arguments) =>
        RunAsync(program, ct, [0], arguments);

    private static async Task RunAsync(string program, CancellationToken ct, int[] okExitCodes, params string[] arguments)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment["LC_ALL"] = "C";
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new SandboxUnavailableException($"Could not run {program}.");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new SandboxUnavailableException($"Could not run {program} (e2fsprogs): {e.Message}", e);
        }
        using var _ = process;
        var output = process.StandardOutput.ReadToEndAsync(ct);
        var errors = process.StandardError.ReadToEndAsync(ct);
        try
        {
            await process.WaitForExitAsync(ct);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            throw;
        }
        await Task.WhenAll(output, errors);
        if (!okExitCodes.Contains(process.ExitCode))
        {
            var message = (await errors).Trim();
            throw new SandboxUnavailableException(
                $"{program} {string.Join(' ', arguments)} failed with exit code {process.ExitCode}: {(message.Length > 400 ? message[..400] : message)}");
        }
    }
}
