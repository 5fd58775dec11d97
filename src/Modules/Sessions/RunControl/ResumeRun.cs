using Conclave.Sessions.Contracts;
using Conclave.Sessions.Log;

namespace Conclave.Sessions.RunControl;

/// <summary>Resume a paused (or pausing) run from its last persisted step, on whichever node takes it.</summary>
internal sealed record ResumeRun(string OwnerId, Guid SessionId, Guid RunId)
{
    public Decision Decide(RunStatus status, DateTimeOffset now) => status switch
    {
        // Nobody executes a paused run: it is requested again, and commits with its resumption.
        RunStatus.Paused => Decision.Append(new RunResumed(RunId, now)).Send(new RunRequested(SessionId, RunId, OwnerId)),
        // A pausing run is still executing: it reads the resumption at its next boundary and goes on.
        RunStatus.Pausing => Decision.Append(new RunResumed(RunId, now)),
        _ => throw new RunStateException(RunId, "The run is not paused; there is nothing to resume."),
    };
}
