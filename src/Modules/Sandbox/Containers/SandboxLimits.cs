using System.Globalization;

namespace Conclave.Sandbox.Containers;

/// <summary>
/// Decides, from a <see cref="LimitsReport"/>, which of the limits every sandbox must have are really in
/// force. A value that cannot be read counts as missing: a misread refuses a container, it never passes one.
/// </summary>
internal static class SandboxLimits
{
    /// <summary>What a container must be held to.</summary>
    internal sealed record Wanted(long MemoryBytes, long PidsLimit, long NanoCpus, long FileSizeBytes, long? WorkspaceBytesAtMost, bool WorkspaceNoExec);

    /// <summary>One limit that is not in force, in words an operator understands.</summary>
    internal sealed record Missing(string Limit, string Seen);

    public static IReadOnlyList<Missing> Check(LimitsReport report, Wanted wanted)
    {
        var missing = new List<Missing>();
        var files = report.Files ?? [];
        var v2 = report.Cgroup == "v2";

        var memory = Number(files, v2 ? "memory.max" : "memory.limit_in_bytes");
        if (memory is not { } m || m > wanted.MemoryBytes)
        {
            missing.Add(new("memory", Seen(files, v2 ? "memory.max" : "memory.limit_in_bytes")));
        }

        // Swap: limited to nothing beyond memory, or there is no swap to use.
        var noSwap = report.SwapTotalKb == 0;
        if (v2)
        {
            if (!noSwap && Number(files, "memory.swap.max") is not 0)
            {
                missing.Add(new("memory+swap", Seen(files, "memory.swap.max")));
            }
        }
        else if (!noSwap && (Number(files, "memory.memsw.limit_in_bytes") is not { } both || both > wanted.MemoryBytes))
        {
            missing.Add(new("memory+swap", Seen(files, "memory.memsw.limit_in_bytes")));
        }

        if (Number(files, "pids.max") is not { } pids || pids > wanted.PidsLimit)
        {
            missing.Add(new("pids", Seen(files, "pids.max")));
        }

        var cpus = v2 ? CpusV2(files) : CpusV1(files);
        if (cpus is not { } c || c > wanted.NanoCpus / 1e9 * 1.01)
        {
            missing.Add(new("cpu", v2 ? Seen(files, "cpu.max") : $"{Seen(files, "cpu.cfs_quota_us")} / {Seen(files, "cpu.cfs_period_us")}"));
        }

        if (report.Rlimits is null || !report.Rlimits.TryGetValue("fsize", out var fsize) || fsize.Length != 2
            || fsize.Any(v => v < 0 || v > wanted.FileSizeBytes))
        {
            missing.Add(new("file size", report.Rlimits?.GetValueOrDefault("fsize") is { } f ? string.Join('/', f) : "unreadable"));
        }

        if (report.Status?.GetValueOrDefault("Seccomp") != "2")
        {
            missing.Add(new("seccomp", report.Status?.GetValueOrDefault("Seccomp") ?? "unreadable"));
        }
        if (report.Status?.GetValueOrDefault("NoNewPrivs") != "1")
        {
            missing.Add(new("no-new-privileges", report.Status?.GetValueOrDefault("NoNewPrivs") ?? "unreadable"));
        }

        if (wanted.WorkspaceBytesAtMost is { } most)
        {
            if (report.Workspace?.Bytes is not { } size || size > most)
            {
                missing.Add(new("workspace quota", report.Workspace?.Bytes is { } b ? $"{b} bytes" : report.Workspace?.Error ?? "unreadable"));
            }
            if (report.Workspace is not { NoSuid: true, NoDev: true } || (wanted.WorkspaceNoExec && report.Workspace.NoExec != true))
            {
                missing.Add(new("workspace mount options", $"noexec={report.Workspace?.NoExec}, nosuid={report.Workspace?.NoSuid}, nodev={report.Workspace?.NoDev}"));
            }
        }
        else
        {
            // WorkspaceIsolation.Folder: only the Host counts the bytes; code can fill the disk the folder is on.
            missing.Add(new("workspace quota", "a plain folder, not a file system of its own"));
        }
        return missing;
    }

    /// <summary>The limits as one line: "memory (9223372036854771712), pids (absent)".</summary>
    public static string Describe(IEnumerable<Missing> missing) =>
        string.Join(", ", missing.Select(m => $"{m.Limit} ({m.Seen})"));

    private static double? CpusV1(Dictionary<string, CgroupFile?> files) =>
        Number(files, "cpu.cfs_quota_us") is { } quota && Number(files, "cpu.cfs_period_us") is { } period && period > 0
            ? (double)quota / period
            : null;

    private static double? CpusV2(Dictionary<string, CgroupFile?> files)
    {
        var parts = files.GetValueOrDefault("cpu.max")?.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return parts is [var quota, var period]
            && long.TryParse(quota, NumberStyles.None, CultureInfo.InvariantCulture, out var q)
            && long.TryParse(period, NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p > 0
            ? (double)q / p
            : null;
    }

    /// <summary>A limit file's number; null for "max", -1, absent or garbage (all: no limit).</summary>
    private static long? Number(Dictionary<string, CgroupFile?> files, string name)
    {
        var text = files.GetValueOrDefault(name)?.Value.Trim();
        if (text is null || !long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
        {
            return null;
        }
        // cgroup v1 writes "no limit" as the largest page-aligned 64-bit value.
        return value >= long.MaxValue - 4096 * 1024L ? null : value;
    }

    private static string Seen(Dictionary<string, CgroupFile?> files, string name) =>
        files.GetValueOrDefault(name) is { } file ? $"{file.Path} = {file.Value}" : $"{name} absent";
}
