using System.ComponentModel.DataAnnotations;

namespace Conclave.Sessions.Runs;

/// <summary>Heartbeats and reaping of runs (<c>Conclave:Runs</c>).</summary>
public sealed class RunLeaseOptions
{
    public const string Section = "Conclave:Runs";

    /// <summary>How often a running run renews its lease.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:05:00")]
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>A lease not renewed for this long is stale: its node is taken for dead.</summary>
    [Range(typeof(TimeSpan), "00:00:00.200", "01:00:00")]
    public TimeSpan LeaseTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How often the reaper looks for stale leases.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00")]
    public TimeSpan ReaperInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How many times a run whose node died is queued again before it fails as orphaned.</summary>
    [Range(0, 20)]
    public int MaxAttempts { get; set; } = 3;
}
