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

    public async Task MountAsync(string imagePath, string mountPoint, CancellationToken ct)
    {
        // A volume that was in use when its Host died may be unclean (there is no journal): repair what
        // can be repaired without asking (exit codes 0-2 mean clean or fixed).
        await RunAsync("e2fsck", ct, okExitCodes: [0, 1, 2], "-p", imagePath);
        var flags = options.WorkspaceNoExec ? "loop,nosuid,nodev,noexec,noatime" : "loop,nosuid,nodev,noatime";
        await RunAsync("mount", ct, "-t", "ext4", "-o", flags, imagePath, mountPoint);
    }

    /// <summary>Detaches the mount; a container still holding it keeps it until it goes (lazy unmount).</summary>
    public Task UnmountAsync(string mountPoint, CancellationToken ct) =>
        RunAsync("umount", ct, okExitCodes: [0, 32], "--lazy", mountPoint);

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
        using var process = Process.Start(start)
            ?? throw new SandboxUnavailableException($"Could not run {program}.");
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
