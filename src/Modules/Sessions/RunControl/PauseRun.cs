using Conclave.Sessions.Contracts;
using Conclave.Sessions.Log;

namespace Conclave.Sessions.RunControl;

/// <summary>Pause a run at its next step boundary: <see cref="RunPauseRequested"/> now, <see cref="RunPaused"/> at the boundary.</summary>
internal sealed record PauseRun(string OwnerId, Guid SessionId, Guid RunId)
{
    public Decision Decide(RunStatus status, DateTimeOffset now) => status switch
    {
        RunStatus.Paused or RunStatus.Pausing => throw new RunStateException(RunId, "The run is already paused or pausing."),
        RunStatus.AwaitingApproval => throw new RunStateException(RunId, "The run already waits: for your approval of a tool call. Answer it, or stop the run."),
        _ => Decision.Append(new RunPauseRequested(RunId, now)),
    };
}
