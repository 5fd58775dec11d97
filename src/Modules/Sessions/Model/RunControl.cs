using Conclave.Sessions.Contracts;
using Conclave.Sessions.Log;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Wolverine;
using Wolverine.Marten;

namespace Conclave.Sessions.Model;

internal sealed class RunControl(ISessions sessions, SessionLog log, SessionStream stream, IMessageBus bus, TimeProvider clock) : IRunControl
{
    public async Task CancelAsync(string ownerId, Guid sessionId, Guid runId, CancellationToken cancellationToken)
    {
        var status = await StatusAsync(ownerId, sessionId, runId, cancellationToken);
        if (status == RunStatus.Paused)
        {
            // Nobody executes a paused run: it ends here.
            await log.AppendToRunAsync(sessionId, runId, [new RunCancelled(runId, RunReasons.StoppedByUser, clock.GetUtcNow())], cancellationToken);
            return;
        }

        // Not durable on purpose: a stop is only worth something now; a lost one is clicked again.
        await bus.PublishAsync(new RunCancellationRequested(sessionId, runId));
    }

    public async Task PauseAsync(string ownerId, Guid sessionId, Guid runId, CancellationToken cancellationToken)
    {
        var status = await StatusAsync(ownerId, sessionId, runId, cancellationToken);
        if (status is RunStatus.Paused or RunStatus.Pausing)
        {
            throw new RunStateException(runId, "The run is already paused or pausing.");
        }

        await log.AppendToRunAsync(sessionId, runId, [new RunPauseRequested(runId, clock.GetUtcNow())], cancellationToken);
    }

    public async Task ResumeAsync(string ownerId, Guid sessionId, Guid runId, CancellationToken cancellationToken)
    {
        var status = await StatusAsync(ownerId, sessionId, runId, cancellationToken);
        if (status is not (RunStatus.Paused or RunStatus.Pausing))
        {
            throw new RunStateException(runId, "The run is not paused; there is nothing to resume.");
        }

        await stream.AppendAsync(
            sessionId,
            [new RunResumed(runId, clock.GetUtcNow())],
            cancellationToken,
            enlist: async (session, services) =>
            {
                // A pausing run is still executing: it reads the resume at its next boundary and goes on.
                if (status == RunStatus.Paused)
                {
                    var outbox = services.GetRequiredService<IMartenOutbox>();
                    outbox.Enroll(session);
                    await outbox.SendAsync(new RunRequested(sessionId, runId, ownerId));
                }
            },
            whileRunActive: runId);
    }

    /// <summary>The run's status; a run of another owner's session, or unknown, is not found; an ended run throws.</summary>
    private async Task<RunStatus> StatusAsync(string ownerId, Guid sessionId, Guid runId, CancellationToken cancellationToken)
    {
        if (await sessions.FindAsync(ownerId, sessionId, cancellationToken) is null)
        {
            throw new SessionNotFoundException(sessionId);
        }

        var status = RunHistory.StatusOf(await log.ReadRunLifecycleAsync(sessionId, runId, cancellationToken), runId);
        return status switch
        {
            RunStatus.None => throw new SessionNotFoundException(sessionId),
            _ when status.HasEnded() => throw new RunAlreadyEndedException(runId),
            _ => status,
        };
    }
}
