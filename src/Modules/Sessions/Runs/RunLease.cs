namespace Conclave.Sessions.Runs;

/// <summary>A run's lease (a Marten document, optimistic concurrency): operational state, not history.</summary>
internal sealed class RunLease
{
    /// <summary>The run's id.</summary>
    public Guid Id { get; set; }

    public Guid SessionId { get; set; }

    /// <summary>The node executing the run; null while nobody does (queued again by the reaper).</summary>
    public string? NodeId { get; set; }

    public DateTimeOffset HeartbeatAt { get; set; }

    /// <summary>Its node left gracefully (drained) rather than died: the reaper's next requeue is not counted as an attempt.</summary>
    public bool HandedOn { get; set; }

    /// <summary>How many times the reaper has queued the run again.</summary>
    public int Attempts { get; set; }
}
