using Conclave.Sandbox.Contracts;
using Conclave.Sandbox.Telemetry;
using Conclave.Sandbox.Workspaces;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Conclave.Sandbox.Containers;

/// <summary>
/// The verdict of the last limits check (one per container start) and what the engine is. A refusal is
/// remembered for <see cref="RefusalMemory"/>, so sessions fail fast instead of each starting a container
/// that will be refused.
/// </summary>
internal sealed class SandboxStatus(IOptions<SandboxOptions> options, WorkspaceVolumes volumes, TimeProvider time, ILogger<SandboxStatus> logger)
    : ISandboxStatus, IHealthCheck
{
    public static readonly TimeSpan RefusalMemory = TimeSpan.FromSeconds(30);

    private volatile SandboxHealth _current = new(
        SandboxLimitsState.NotCheckedYet,
        "No sandbox has started yet; its limits are checked in the first one.",
        [], "not contacted yet", volumes.Isolation, options.Value.SeccompProfile ?? "", null);

    public SandboxHealth Current => _current;

    public string Engine { get; set; } = "not contacted yet";

    /// <summary>Records a check; returns the message to refuse the container with, or null to use it.</summary>
    public string? Record(IReadOnlyList<SandboxLimits.Missing> missing, EngineFacts engine, string containerName)
    {
        Engine = engine.Description;
        var now = time.GetUtcNow();
        if (missing.Count == 0)
        {
            _current = new(SandboxLimitsState.Enforced,
                $"Every sandbox limit is enforced (memory, memory+swap, pids, CPU, file size, seccomp, workspace quota by {Describe(volumes.Isolation)}).",
                [], engine.Description, volumes.Isolation, options.Value.SeccompProfile ?? "", now);
            return null;
        }
        var names = string.Join(", ", missing.Select(m => m.Limit));
        var hint = Hint(missing, engine);
        var seen = SandboxLimits.Describe(missing);
        if (options.Value.AllowUnlimitedSandboxes)
        {
            _current = new(SandboxLimitsState.Unlimited,
                $"WARNING: sandboxes run without {names} limits, because Conclave:Sandbox:AllowUnlimitedSandboxes is on ({hint}).",
                missing.Select(m => $"{m.Limit} ({m.Seen})").ToList(), engine.Description, volumes.Isolation, options.Value.SeccompProfile ?? "", now);
            Log.SandboxUnlimited(logger, containerName, seen);
            return null;
        }
        var message = $"The container engine does not enforce {names} limits ({hint}), so no sandbox is started. Seen: {seen}. "
            + "To run sandboxes without these limits anyway, set Conclave:Sandbox:AllowUnlimitedSandboxes=true.";
        _current = new(SandboxLimitsState.Refused, message, missing.Select(m => $"{m.Limit} ({m.Seen})").ToList(),
            engine.Description, volumes.Isolation, options.Value.SeccompProfile ?? "", now);
        Log.SandboxRefused(logger, containerName, seen);
        return message;
    }

    /// <summary>A refusal recent enough to give again without starting another container.</summary>
    public string? RecentRefusal() =>
        _current is { State: SandboxLimitsState.Refused, CheckedAt: { } at } refused && time.GetUtcNow() - at < RefusalMemory
            ? refused.Summary
            : null;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var health = _current;
        var data = new Dictionary<string, object>
        {
            ["state"] = health.State.ToString(),
            ["engine"] = health.Engine,
            ["workspaceIsolation"] = health.Isolation.ToString(),
        };
        return Task.FromResult(health.State switch
        {
            SandboxLimitsState.Enforced => HealthCheckResult.Healthy(health.Summary, data),
            SandboxLimitsState.Refused => HealthCheckResult.Unhealthy(health.Summary, data: data),
            _ => HealthCheckResult.Degraded(health.Summary, data: data),
        });
    }

    private static string Describe(WorkspaceIsolation isolation) => isolation switch
    {
        WorkspaceIsolation.FileSystemPerSession => "a file system per session",
        _ => "the Host only",
    };

    private string Hint(IReadOnlyList<SandboxLimits.Missing> missing, EngineFacts engine)
    {
        var hints = new List<string>();
        var cgroupLimits = missing.Any(m => m.Limit is "memory" or "memory+swap" or "pids" or "cpu");
        if (cgroupLimits && engine.Rootless && engine.CgroupVersion == "1")
        {
            hints.Add($"rootless {engine.Name} on cgroup v1 cannot apply cgroup limits; run Conclave and the engine as root, or on cgroup v2 with delegation");
        }
        else if (cgroupLimits && engine.Rootless)
        {
            hints.Add($"rootless {engine.Name} needs the memory, pids and cpu controllers delegated to its user (systemd: Delegate=yes)");
        }
        else if (cgroupLimits)
        {
            hints.Add($"check the cgroup controllers of {engine.Name} (cgroup v{engine.CgroupVersion})");
        }
        if (missing.Any(m => m.Limit.StartsWith("workspace", StringComparison.Ordinal)))
        {
            hints.Add(volumes.QuotaEnforcedByKernel
                ? "the engine did not mount the workspace's own file system at /workspace"
                    + (engine.Rootless ? " (a rootless engine sees the Host's mounts only when / is a shared mount, as systemd makes it)" : "")
                : "the Host cannot mount a file system per workspace: run Conclave as root, with loop devices (/dev/loop-control) and mkfs.ext4");
        }
        if (missing.Any(m => m.Limit is "seccomp" or "no-new-privileges"))
        {
            hints.Add($"the engine ignored the seccomp profile or no-new-privileges (profile: {options.Value.SeccompProfile})");
        }
        if (missing.Any(m => m.Limit == "file size"))
        {
            hints.Add(engine.IsPodman && engine.Rootless
                ? "rootless Podman's Docker API drops the ulimits it is given (fsize)"
                : "the engine did not apply the fsize ulimit");
        }
        return string.Join("; ", hints);
    }
}
