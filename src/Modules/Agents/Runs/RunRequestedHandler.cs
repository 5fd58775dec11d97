using Conclave.Sessions.Contracts;

namespace Conclave.Agents.Runs;

/// <summary>Picks runs off the durable "runs" queue.</summary>
public static class RunRequestedHandler
{
    public static Task Handle(RunRequested message, RunOrchestrator orchestrator, CancellationToken cancellationToken) =>
        orchestrator.ExecuteAsync(message, cancellationToken);
}
