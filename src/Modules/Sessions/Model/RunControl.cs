using Conclave.Sessions.Contracts;
using Wolverine;

namespace Conclave.Sessions.Model;

internal sealed class RunControl(ISessions sessions, ISessionLog log, IMessageBus bus) : IRunControl
{
    public async Task CancelAsync(string ownerId, Guid sessionId, Guid runId, CancellationToken cancellationToken)
    {
        if (await sessions.FindAsync(ownerId, sessionId, cancellationToken) is null)
        {
            throw new SessionNotFoundException(sessionId);
        }

        var history = await log.ReadAsync(sessionId, 0, cancellationToken);
        if (!history.Any(e => e.Data is RunQueued q && q.RunId == runId))
        {
            throw new SessionNotFoundException(sessionId);
        }

        if (!RunHistory.IsActive(history, runId))
        {
            throw new RunAlreadyEndedException(runId);
        }

        // Not durable on purpose: a stop is only worth something now; a lost one is clicked again.
        await bus.PublishAsync(new RunCancellationRequested(sessionId, runId));
    }
}
