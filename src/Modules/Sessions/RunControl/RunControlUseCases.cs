using Conclave.Sessions.Contracts;
using Conclave.Sessions.Lifecycle;
using Conclave.Sessions.Log;
using Wolverine;

namespace Conclave.Sessions.RunControl;

/// <summary>The user's control over a session's runs: each request is read against the run's lifecycle, decided, then appended.</summary>
internal sealed class RunControlUseCases(OwnedSessions sessions, SessionLog log, SessionStream stream, IMessageBus bus, TimeProvider clock) : IRunControl
{
    public async Task CancelAsync(string ownerId, Guid sessionId, Guid runId, CancellationToken cancellationToken)
    {
        var status = await ControlledRun.StatusAsync(sessions, log, ownerId, sessionId, runId, cancellationToken);
        switch (new CancelRun(ownerId, sessionId, runId).Decide(status, clock.GetUtcNow()))
        {
            case Decision ended:
                await stream.AppendAsync(sessionId, ended, cancellationToken, whileRunActive: runId);
                break;
            case RunCancellationRequested stop:
                await bus.PublishAsync(stop);
                break;
        }
    }

    public async Task PauseAsync(string ownerId, Guid sessionId, Guid runId, CancellationToken cancellationToken)
    {
        var status = await ControlledRun.StatusAsync(sessions, log, ownerId, sessionId, runId, cancellationToken);
        var decision = new PauseRun(ownerId, sessionId, runId).Decide(status, clock.GetUtcNow());
        await stream.AppendAsync(sessionId, decision, cancellationToken, whileRunActive: runId);
    }

    public async Task ResumeAsync(string ownerId, Guid sessionId, Guid runId, CancellationToken cancellationToken)
    {
        var status = await ControlledRun.StatusAsync(sessions, log, ownerId, sessionId, runId, cancellationToken);
        var decision = new ResumeRun(ownerId, sessionId, runId).Decide(status, clock.GetUtcNow());
        await stream.AppendAsync(sessionId, decision, cancellationToken, whileRunActive: runId);
    }

    public async Task AnswerApprovalAsync(
        string ownerId, Guid sessionId, Guid runId, string callId, ApprovalAnswer answer, CancellationToken cancellationToken)
    {
        await ControlledRun.StatusAsync(sessions, log, ownerId, sessionId, runId, cancellationToken);
        var lifecycle = await log.ReadRunLifecycleAsync(sessionId, runId, cancellationToken);
        var decision = new AnswerApproval(ownerId, sessionId, runId, callId).Decide(lifecycle, answer, clock.GetUtcNow());
        await stream.AppendAsync(sessionId, decision, cancellationToken, whileRunActive: runId);
    }
}
