using Conclave.Sandbox.Containers;

namespace Conclave.Sandbox.Tests.Containers;

/// <summary>The limits check on the file layouts of cgroup v1 and v2 (as the bridge reads them); no container needed.</summary>
public sealed class SandboxLimitsTests
{
    private static readonly SandboxLimits.Wanted Wanted = new(
        MemoryBytes: 512L * 1024 * 1024, PidsLimit: 128, NanoCpus: 1_000_000_000, FileSizeBytes: 200L * 1024 * 1024,
        WorkspaceBytesAtMost: 220L * 1024 * 1024, WorkspaceNoExec: true);

    private static readonly Dictionary<string, string> Locked = new() { ["Seccomp"] = "2", ["NoNewPrivs"] = "1" };

    private static readonly WorkspaceMount OwnVolume = new() { Bytes = 210L * 1024 * 1024, NoExec = true, NoSuid = true, NoDev = true };

    private static LimitsReport V1(string memory, string? memsw, string? pids, string quota, long swapKb = 1024) => new()
    {
        Cgroup = "v1",
        Files = new()
        {
            ["memory.limit_in_bytes"] = new("/sys/fs/cgroup/memory/memory.limit_in_bytes", memory),
            ["memory.memsw.limit_in_bytes"] = memsw is null ? null : new("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", memsw),
            ["pids.max"] = pids is null ? null : new("/sys/fs/cgroup/pids/pids.max", pids),
            ["cpu.cfs_quota_us"] = new("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", quota),
            ["cpu.cfs_period_us"] = new("/sys/fs/cgroup/cpu/cpu.cfs_period_us", "100000"),
        },
        Rlimits = new() { ["fsize"] = [209715200, 209715200], ["nproc"] = [512, 512] },
        Status = Locked,
        SwapTotalKb = swapKb,
        Workspace = OwnVolume,
    };

    private static LimitsReport V2(string memory, string swap, string pids, string cpu) => new()
    {
        Cgroup = "v2",
        Files = new()
        {
            ["memory.max"] = new("/sys/fs/cgroup/memory.max", memory),
            ["memory.swap.max"] = new("/sys/fs/cgroup/memory.swap.max", swap),
            ["pids.max"] = new("/sys/fs/cgroup/pids.max", pids),
            ["cpu.max"] = new("/sys/fs/cgroup/cpu.max", cpu),
        },
        Rlimits = new() { ["fsize"] = [209715200, 209715200] },
        Status = Locked,
        SwapTotalKb = 2048,
        Workspace = OwnVolume,
    };

    [Fact]
    public void A_limited_cgroup_v1_container_passes() =>
        Assert.Empty(SandboxLimits.Check(V1("536870912", "536870912", "128", "100000"), Wanted));

    [Fact]
    public void A_limited_cgroup_v2_container_passes() =>
        Assert.Empty(SandboxLimits.Check(V2("536870912", "0", "128", "100000 100000"), Wanted));

    [Fact]
    public void Rootless_podman_on_cgroup_v1_is_refused_for_every_cgroup_limit()
    {
        // What the attack review read inside such a container.
        var missing = SandboxLimits.Check(V1("9223372036854771712", null, null, "-1"), Wanted);

        Assert.Equal(["memory", "memory+swap", "pids", "cpu"], missing.Select(m => m.Limit));
        Assert.Contains("9223372036854771712", SandboxLimits.Describe(missing), StringComparison.Ordinal);
    }

    [Fact]
    public void An_unlimited_cgroup_v2_container_is_refused()
    {
        var missing = SandboxLimits.Check(V2("max", "max", "max", "max 100000"), Wanted);

        Assert.Equal(["memory", "memory+swap", "pids", "cpu"], missing.Select(m => m.Limit));
    }

    [Fact]
    public void Without_swap_on_the_host_no_swap_limit_is_needed() =>
        Assert.Empty(SandboxLimits.Check(V1("536870912", null, "128", "100000", swapKb: 0), Wanted));

    [Fact]
    public void Limits_looser_than_asked_are_refused()
    {
        var missing = SandboxLimits.Check(V1("1073741824", "1073741824", "4096", "400000"), Wanted);

        Assert.Equal(["memory", "memory+swap", "pids", "cpu"], missing.Select(m => m.Limit));
    }

    [Fact]
    public void Unlimited_file_size_no_seccomp_and_a_plain_workspace_are_refused()
    {
        var report = V2("536870912", "0", "128", "100000 100000") with
        {
            Rlimits = new() { ["fsize"] = [-1, -1] },
            Status = new() { ["Seccomp"] = "0", ["NoNewPrivs"] = "0" },
            Workspace = new() { Bytes = 250L * 1024 * 1024 * 1024, NoExec = false, NoSuid = true, NoDev = true },
        };

        var missing = SandboxLimits.Check(report, Wanted);

        Assert.Equal(["file size", "seccomp", "no-new-privileges", "workspace quota", "workspace mount options"], missing.Select(m => m.Limit));
    }

    [Fact]
    public void A_plain_folder_workspace_counts_as_no_quota()
    {
        // What a Host that is not root has: no file system of its own per workspace.
        var missing = SandboxLimits.Check(V1("536870912", "536870912", "128", "100000"), Wanted with { WorkspaceBytesAtMost = null });

        Assert.Equal(["workspace quota"], missing.Select(m => m.Limit));
    }

    [Fact]
    public void Files_that_cannot_be_read_count_as_missing()
    {
        var missing = SandboxLimits.Check(new LimitsReport(), Wanted);

        Assert.Contains(missing, m => m.Limit == "memory");
        Assert.Contains(missing, m => m.Limit == "pids");
        Assert.Contains(missing, m => m.Limit == "cpu");
        Assert.Contains(missing, m => m.Limit == "file size");
    }
}
