using Conclave.Sessions.Contracts;
using JasperFx.Events;
using Marten;
using Marten.Events.Projections;
using Marten.Patching;

namespace Conclave.Sessions.Log;

/// <summary>Keeps one <see cref="RunSummary"/> per run, inline with each append, by patching (no load per step).</summary>
internal sealed partial class RunSummaryProjection : EventProjection
{
    public RunSummary Create(IEvent<RunQueued> e) => new()
    {
        Id = e.Data.RunId,
        SessionId = e.StreamId,
        OwnerId = e.Data.OwnerId ?? "",
        QueuedAt = e.Data.At,
    };

    public void Project(IEvent<RunStarted> e, IDocumentOperations ops) =>
        ops.Patch<RunSummary>(e.Data.RunId).Set(r => r.Status, RunStatus.Running).Set(r => r.Team, e.Data.Team);

    public void Project(IEvent<RunPaused> e, IDocumentOperations ops) =>
        ops.Patch<RunSummary>(e.Data.RunId).Set(r => r.Status, RunStatus.Paused).Set(r => r.Active, false);

    public void Project(IEvent<RunResumed> e, IDocumentOperations ops) =>
        ops.Patch<RunSummary>(e.Data.RunId).Set(r => r.Status, RunStatus.Queued).Set(r => r.Active, true);

    public void Project(IEvent<RunRequeued> e, IDocumentOperations ops) =>
        ops.Patch<RunSummary>(e.Data.RunId).Set(r => r.Status, RunStatus.Queued);

    public void Project(IEvent<AgentMessageCompleted> e, IDocumentOperations ops) =>
        Usage(ops.Patch<RunSummary>(e.Data.RunId).Increment(r => r.Messages), e.Data.Usage, e.Data.Cost);

    public void Project(IEvent<SpeakerSelected> e, IDocumentOperations ops) =>
        Usage(ops.Patch<RunSummary>(e.Data.RunId), e.Data.Usage, e.Data.Cost);

    public void Project(IEvent<ToolCallCompleted> e, IDocumentOperations ops) =>
        ops.Patch<RunSummary>(e.Data.RunId).Increment(r => r.ToolCalls);

    public void Project(IEvent<RunCompleted> e, IDocumentOperations ops) =>
        End(ops, e.Data.RunId, RunStatus.Completed, e.Data.At, e.Data.Reason);

    public void Project(IEvent<RunFailed> e, IDocumentOperations ops) =>
        End(ops, e.Data.RunId, RunStatus.Failed, e.Data.At, e.Data.Reason);

    public void Project(IEvent<RunCancelled> e, IDocumentOperations ops) =>
        End(ops, e.Data.RunId, RunStatus.Cancelled, e.Data.At, e.Data.Reason);

    private static void End(IDocumentOperations ops, Guid runId, RunStatus status, DateTimeOffset at, string? reason)
    {
        var patch = ops.Patch<RunSummary>(runId).Set(r => r.Status, status).Set(r => r.EndedAt, at).Set(r => r.Active, false);
        if (reason is not null)
        {
            patch.Set(r => r.Reason, reason);
        }
    }

    private static void Usage(IPatchExpression<RunSummary> patch, TokenUsage usage, decimal? cost)
    {
        patch.Increment(r => r.PromptTokens, usage.PromptTokens).Increment(r => r.CompletionTokens, usage.CompletionTokens);
        if (cost is { } known)
        {
            patch.Increment(r => r.Cost, known);
        }
        else if (usage.TotalTokens > 0)
        {
            patch.Increment(r => r.UnpricedCalls);
        }
    }
}
