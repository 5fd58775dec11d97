using Conclave.Sessions.Contracts;
using Conclave.Sessions.Log;

namespace Conclave.Sessions.RunControl;

/// <summary>Stop a run at once.</summary>
internal sealed record CancelRun(string OwnerId, Guid SessionId, Guid RunId)
{
    /// <summary>
    /// A paused run or one waiting for an approval, which nobody executes, ends in the log here (<see cref="Decision"/>). Any other is
    /// stopped by the node executing it (<see cref="RunCancellationRequested"/>, sent at once and not
    /// durably: a stop is only worth something now, and a lost one is clicked again).
    /// </summary>
    public object Decide(RunStatus status, DateTimeOffset now) => status is RunStatus.Paused or RunStatus.AwaitingApproval
        ? Decision.Append(new RunCancelled(RunId, RunReasons.StoppedByUser, now))
        : new RunCancellationRequested(SessionId, RunId);
}
