using Conclave.Sessions.Contracts;
using JasperFx.Events;
using Marten;
using Marten.Events.Projections;
using Marten.Patching;

namespace Conclave.Sessions.Runs;

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

    public void Project(IEvent<ToolApprovalRequested> e, IDocumentOperations ops) =>
        ops.Patch<RunSummary>(e.Data.RunId).Set(r => r.Status, RunStatus.AwaitingApproval).Set(r => r.Active, false);

    public void Project(IEvent<ToolApprovalGranted> e, IDocumentOperations ops) =>
        ops.Patch<RunSummary>(e.Data.RunId).Set(r => r.Status, RunStatus.Queued).Set(r => r.Active, true);

    public void Project(IEvent<ToolApprovalDenied> e, IDocumentOperations ops) =>
        ops.Patch<RunSummary>(e.Data.RunId).Set(r => r.Status, RunStatus.Queued).Set(r => r.Active, true);

    public void Project(IEvent<RunRequeued> e, IDocumentOperations ops) =>
        ops.Patch<RunSummary>(e.Data.RunId).Set(r => r.Status, RunStatus.Queued);

    public void Project(IEvent<AgentMessageCompleted> e, IDocumentOperations ops) =>
        Usage(ops.Patch<RunSummary>(e.Data.RunId).Increment(r => r.Messages), e.Data.Usage, e.Data.Cost);

    public void Project(IEvent<SpeakerSelected> e, IDocumentOperations ops) =>
        Usage(ops.Patch<RunSummary>(e.Data.RunId), e.Data.Usage, e.Data.Cost);

    public void Project(IEvent<ToolCallCompleted> e, IDocumentOperations ops) =>
        ops.Patch<RunSummary>(e.Data.RunId).Increment(r => r.ToolCalls);

    public void Project(IEvent<IRunEnded> e, IDocumentOperations ops)
    {
        var patch = ops.Patch<RunSummary>(e.Data.RunId).Set(r => r.Status, e.Data.Status).Set(r => r.EndedAt, e.Data.At).Set(r => r.Active, false);
        if (e.Data.Reason is { } reason)
        {
            patch.Set(r => r.Reason, reason);
        }
    }

    /// <summary>Adds one model call to the run's usage, by the <see cref="UsageTally"/> rule.</summary>
    private static void Usage(IPatchExpression<RunSummary> patch, TokenUsage usage, decimal? cost)
    {
        var call = UsageTally.Of(usage, cost);
        patch.Increment(r => r.PromptTokens, call.PromptTokens).Increment(r => r.CompletionTokens, call.CompletionTokens);
        if (call.KnownCost != 0)
        {
            patch.Increment(r => r.Cost, call.KnownCost);
        }

        if (call.UnpricedCalls != 0)
        {
            patch.Increment(r => r.UnpricedCalls, call.UnpricedCalls);
        }
    }
}
