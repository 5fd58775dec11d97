using Conclave.Sessions.Contracts;
using JasperFx.Events;
using Marten;
using Marten.Events.Projections;
using Marten.Patching;

namespace Conclave.Sessions.Lifecycle;

/// <summary>
/// Keeps <see cref="SessionSummary"/> in step with the stream, inline with each append. It patches
/// the stored document in place (in the append's own batch) instead of loading and rewriting it:
/// every message of a run is an append, and a load would add a round trip to each one.
/// </summary>
internal sealed partial class SessionSummaryProjection : EventProjection
{
    public SessionSummary Create(SessionStarted e) => new()
    {
        Id = e.SessionId,
        OwnerId = e.OwnerId,
        Title = e.Title,
        CreatedAt = e.At,
        UpdatedAt = e.At,
    };

    public void Project(IEvent<SessionRenamed> e, IDocumentOperations ops) =>
        ops.Patch<SessionSummary>(e.StreamId).Set(s => s.Title, e.Data.Title).Set(s => s.UpdatedAt, e.Data.At);

    public void Project(IEvent<SessionDeleted> e, IDocumentOperations ops) =>
        ops.Patch<SessionSummary>(e.StreamId).Set(s => s.Deleted, true).Set(s => s.UpdatedAt, e.Data.At);

    public void Project(IEvent<UserMessagePosted> e, IDocumentOperations ops) =>
        ops.Patch<SessionSummary>(e.StreamId).Increment(s => s.MessageCount).Set(s => s.UpdatedAt, e.Data.At);

    public void Project(IEvent<SessionTeamChanged> e, IDocumentOperations ops) =>
        ops.Patch<SessionSummary>(e.StreamId).Set(s => s.TeamId, e.Data.TeamId).Set(s => s.TeamName, e.Data.TeamName).Set(s => s.UpdatedAt, e.Data.At);

    public void Project(IEvent<UserMessageEdited> e, IDocumentOperations ops) =>
        ops.Patch<SessionSummary>(e.StreamId).Set(s => s.UpdatedAt, e.Data.At);

    public void Project(IEvent<RunQueued> e, IDocumentOperations ops) =>
        ops.Patch<SessionSummary>(e.StreamId).Increment(s => s.RunCount).Set(s => s.LastRunId, e.Data.RunId)
            .Set(s => s.LastRunStatus, RunStatus.Queued).Set(s => s.UpdatedAt, e.Data.At);

    public void Project(IEvent<SpeakerSelected> e, IDocumentOperations ops) =>
        Usage(ops.Patch<SessionSummary>(e.StreamId), e.Data.Usage, e.Data.Cost);

    public void Project(IEvent<RunPaused> e, IDocumentOperations ops) =>
        ops.Patch<SessionSummary>(e.StreamId).Set(s => s.LastRunStatus, RunStatus.Paused).Set(s => s.UpdatedAt, e.Data.At);

    public void Project(IEvent<RunResumed> e, IDocumentOperations ops) =>
        ops.Patch<SessionSummary>(e.StreamId).Set(s => s.LastRunStatus, RunStatus.Queued).Set(s => s.UpdatedAt, e.Data.At);

    public void Project(IEvent<ToolApprovalRequested> e, IDocumentOperations ops) =>
        ops.Patch<SessionSummary>(e.StreamId).Set(s => s.LastRunStatus, RunStatus.AwaitingApproval).Set(s => s.UpdatedAt, e.Data.At);

    public void Project(IEvent<ToolApprovalGranted> e, IDocumentOperations ops) =>
        ops.Patch<SessionSummary>(e.StreamId).Set(s => s.LastRunStatus, RunStatus.Queued);

    public void Project(IEvent<ToolApprovalDenied> e, IDocumentOperations ops) =>
        ops.Patch<SessionSummary>(e.StreamId).Set(s => s.LastRunStatus, RunStatus.Queued);

    public void Project(IEvent<RunStarted> e, IDocumentOperations ops) =>
        ops.Patch<SessionSummary>(e.StreamId).Set(s => s.LastRunStatus, RunStatus.Running);

    public void Project(IEvent<AgentMessageCompleted> e, IDocumentOperations ops) =>
        Usage(ops.Patch<SessionSummary>(e.StreamId).Increment(s => s.MessageCount).Set(s => s.UpdatedAt, e.Data.At), e.Data.Usage, e.Data.Cost);

    public void Project(IEvent<IRunEnded> e, IDocumentOperations ops) =>
        ops.Patch<SessionSummary>(e.StreamId).Set(s => s.LastRunStatus, e.Data.Status).Set(s => s.UpdatedAt, e.Data.At);

    /// <summary>Adds one model call to the session's usage, by the <see cref="UsageTally"/> rule.</summary>
    private static void Usage(IPatchExpression<SessionSummary> patch, TokenUsage usage, decimal? cost)
    {
        var call = UsageTally.Of(usage, cost);
        patch.Increment(s => s.PromptTokens, call.PromptTokens).Increment(s => s.CompletionTokens, call.CompletionTokens);
        if (call.KnownCost != 0)
        {
            patch.Increment(s => s.Cost, call.KnownCost);
        }

        if (call.UnpricedCalls != 0)
        {
            patch.Increment(s => s.UnpricedMessages, call.UnpricedCalls);
        }
    }
}
