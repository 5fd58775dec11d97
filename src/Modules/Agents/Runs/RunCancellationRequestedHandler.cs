using Conclave.Sessions.Contracts;

namespace Conclave.Agents.Runs;

/// <summary>Stops a run: the node executing it aborts its work; a run nobody executes yet is ended in the log.</summary>
public static class RunCancellationRequestedHandler
{
    public static async Task Handle(
        RunCancellationRequested message, ActiveRuns runs, ISessionLog log, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (runs.TryCancel(message.RunId))
        {
            return;
        }

        try
        {
            await log.AppendToRunAsync(message.SessionId, message.RunId, [new RunCancelled(message.RunId, RunReasons.StoppedByUser, clock.GetUtcNow())], cancellationToken);
        }
        catch (RunAlreadyEndedException)
        {
            // Ended meanwhile (or superseded by an edit, which ends it itself).
        }

        // The run may have started here between the first look and the append.
        runs.TryCancel(message.RunId);
    }
}
