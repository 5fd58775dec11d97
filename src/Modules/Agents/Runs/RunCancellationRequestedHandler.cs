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

        var history = await log.ReadAsync(message.SessionId, 0, cancellationToken);
        if (RunHistory.IsActive(history, message.RunId))
        {
            await log.AppendAsync(message.SessionId, [new RunCancelled(message.RunId, RunOrchestrator.StoppedByUser, clock.GetUtcNow())], cancellationToken);
        }

        // The run may have started here between the first look and the append.
        runs.TryCancel(message.RunId);
    }
}
