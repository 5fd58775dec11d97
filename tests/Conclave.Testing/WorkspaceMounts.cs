using System.Diagnostics;

namespace Conclave.Testing;

/// <summary>
/// The workspace root as the Host lays it out on disk (<c>sessions/&lt;session&gt;</c> names a volume,
/// mounted at <c>mounts/&lt;volume&gt;</c>), for tests that look behind the API, and clean-up of the
/// mounts a killed Host leaves behind.
/// </summary>
public static class WorkspaceMounts
{
    /// <summary>Where the session's files are on the Host, or null when it has no workspace.</summary>
    public static string? SessionFolder(string workspaceRoot, Guid sessionId)
    {
        var record = Path.Combine(workspaceRoot, "sessions", sessionId.ToString("N"));
        return File.Exists(record) ? Path.Combine(workspaceRoot, "mounts", File.ReadAllText(record).Trim()) : null;
    }

    /// <summary>The mount points below <paramref name="root"/>, from /proc/self/mountinfo.</summary>
    public static IReadOnlyList<string> Under(string root)
    {
        var prefix = Path.GetFullPath(root).TrimEnd('/') + "/";
        return File.ReadLines("/proc/self/mountinfo")
            .Select(line => line.Split(' ')[4].Replace("\\040", " ", StringComparison.Ordinal))
            .Where(point => point.StartsWith(prefix, StringComparison.Ordinal))
            .ToList();
    }

    /// <summary>Detaches every mount below <paramref name="root"/> and deletes the folder.</summary>
    public static void DeleteRoot(string root)
    {
        if (!Directory.Exists(root))
        {
            return;
        }
        foreach (var point in Under(root).OrderByDescending(p => p.Length))
        {
            using var umount = Process.Start(new ProcessStartInfo("umount", ["--lazy", point]) { RedirectStandardError = true })!;
            umount.WaitForExit();
        }
        Directory.Delete(root, recursive: true);
    }
}
