namespace Conclave.Sessions.Contracts;

/// <summary>
/// The one reading of a run's lifecycle from the log: where a run stands after each of its events,
/// and which runs are still going. The log, the feed, the projections, the orchestrator and the UI
/// all read runs through it (and "has it ended?" through <see cref="IRunEnded"/>).
/// </summary>
public static class RunHistory
{
    /// <summary>The events that move a run's status; <see cref="IRunEnded"/> events move it too.</summary>
    public static IReadOnlyList<Type> LifecycleEvents { get; } =
        [
            typeof(RunQueued), typeof(RunStarted), typeof(RunRequeued), typeof(RunPauseRequested), typeof(RunPaused), typeof(RunResumed),
            typeof(ToolApprovalRequested), typeof(ToolApprovalGranted), typeof(ToolApprovalDenied),
        ];

    /// <summary>Where the run stands according to the log (<see cref="RunStatus.None"/> for a run the log does not hold).</summary>
    public static RunStatus StatusOf(IEnumerable<SessionEvent> history, Guid runId)
    {
        var status = RunStatus.None;
        foreach (var e in history)
        {
            if (e.Data is IRunEvent run && run.RunId == runId)
            {
                status = Next(status, run);
            }
        }

        return status;
    }

    /// <summary>The status after one event of the run. An ended run stays ended whatever follows.</summary>
    public static RunStatus Next(RunStatus status, IRunEvent e) => status.HasEnded() ? status : e switch
    {
        IRunEnded ended => ended.Status,
        RunQueued => RunStatus.Queued,
        // A pause asked for stays asked for while a node picks the run up again.
        RunStarted => status == RunStatus.Pausing ? RunStatus.Pausing : RunStatus.Running,
        RunRequeued => status == RunStatus.Pausing ? RunStatus.Pausing : RunStatus.Queued,
        RunPauseRequested => status is RunStatus.Queued or RunStatus.Running ? RunStatus.Pausing : status,
        RunPaused => RunStatus.Paused,
        RunResumed => RunStatus.Queued,
        // The run stops at the call and gives its lease up; an answer queues it again.
        ToolApprovalRequested => RunStatus.AwaitingApproval,
        ToolApprovalGranted or ToolApprovalDenied => status == RunStatus.AwaitingApproval ? RunStatus.Queued : status,
        _ => status,
    };

    /// <summary>Completed, failed or cancelled: nothing more happens to the run.</summary>
    public static bool HasEnded(this RunStatus status) => status is RunStatus.Completed or RunStatus.Failed or RunStatus.Cancelled;

    /// <summary>Queued, running or pausing: a node executes the run, or will.</summary>
    public static bool IsGoing(this RunStatus status) => status is RunStatus.Queued or RunStatus.Running or RunStatus.Pausing;

    /// <summary>Runs queued and not yet ended, oldest first.</summary>
    public static IReadOnlyList<Guid> ActiveRuns(IEnumerable<SessionEvent> history)
    {
        var active = new List<Guid>();
        foreach (var e in history)
        {
            TrackActive(active, e.Data);
        }

        return active;
    }

    /// <summary>Keeps a list of the runs queued and not yet ended up to date with one more event.</summary>
    public static void TrackActive(List<Guid> active, object data)
    {
        switch (data)
        {
            case RunQueued queued:
                active.Add(queued.RunId);
                break;
            case IRunEnded ended:
                active.Remove(ended.RunId);
                break;
        }
    }
}
