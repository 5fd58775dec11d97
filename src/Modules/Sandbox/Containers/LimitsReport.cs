using System.Text.Json.Serialization;

namespace Conclave.Sandbox.Containers;

/// <summary>
/// What the kernel bridge read from inside a fresh container before any user code ran: the cgroup
/// files that hold its limits (v1 or v2 layout), its rlimits, its seccomp and no-new-privileges state,
/// the host's swap and the size of the file system at /workspace.
/// </summary>
internal sealed record LimitsReport
{
    [JsonPropertyName("cgroup")] public string? Cgroup { get; init; }

    /// <summary>By file name (memory.max, memory.limit_in_bytes, ...); null when no such file was found.</summary>
    [JsonPropertyName("files")] public Dictionary<string, CgroupFile?>? Files { get; init; }

    /// <summary>By name (fsize, nproc, nofile): [soft, hard], -1 meaning unlimited.</summary>
    [JsonPropertyName("rlimits")] public Dictionary<string, long[]>? Rlimits { get; init; }

    /// <summary>Seccomp, NoNewPrivs and CapEff from /proc/self/status.</summary>
    [JsonPropertyName("status")] public Dictionary<string, string>? Status { get; init; }

    [JsonPropertyName("swap_total_kb")] public long? SwapTotalKb { get; init; }

    [JsonPropertyName("workspace")] public WorkspaceMount? Workspace { get; init; }

    [JsonPropertyName("uid")] public long? Uid { get; init; }
}

internal sealed record CgroupFile(
    [property: JsonPropertyName("path")] string Path,
    [property: JsonPropertyName("value")] string Value);

internal sealed record WorkspaceMount
{
    [JsonPropertyName("bytes")] public long? Bytes { get; init; }
    [JsonPropertyName("entries")] public long? Entries { get; init; }
    [JsonPropertyName("noexec")] public bool? NoExec { get; init; }
    [JsonPropertyName("nosuid")] public bool? NoSuid { get; init; }
    [JsonPropertyName("nodev")] public bool? NoDev { get; init; }
    [JsonPropertyName("error")] public string? Error { get; init; }
}
