using Conclave.Sessions.Contracts;
using JasperFx.Events;
using Marten;
using Marten.Events.Projections;
using Marten.Patching;

namespace Conclave.Sessions.Log;

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

    public void Project(IEvent<RunQueued> e, IDocumentOperations ops) =>
        ops.Patch<SessionSummary>(e.StreamId).Increment(s => s.RunCount)
            .Set(s => s.LastRunStatus, RunStatus.Queued).Set(s => s.UpdatedAt, e.Data.At);

    public void Project(IEvent<RunStarted> e, IDocumentOperations ops) =>
        ops.Patch<SessionSummary>(e.StreamId).Set(s => s.LastRunStatus, RunStatus.Running);

    public void Project(IEvent<AgentMessageCompleted> e, IDocumentOperations ops) =>
        ops.Patch<SessionSummary>(e.StreamId).Increment(s => s.MessageCount)
            .Increment(s => s.PromptTokens, e.Data.Usage.PromptTokens)
            .Increment(s => s.CompletionTokens, e.Data.Usage.CompletionTokens)
            .Set(s => s.UpdatedAt, e.Data.At);

    public void Project(IEvent<RunCompleted> e, IDocumentOperations ops) =>
        ops.Patch<SessionSummary>(e.StreamId).Set(s => s.LastRunStatus, RunStatus.Completed).Set(s => s.UpdatedAt, e.Data.At);

    public void Project(IEvent<RunCancelled> e, IDocumentOperations ops) =>
        ops.Patch<SessionSummary>(e.StreamId).Set(s => s.LastRunStatus, RunStatus.Cancelled).Set(s => s.UpdatedAt, e.Data.At);

    public void Project(IEvent<RunFailed> e, IDocumentOperations ops) =>
        ops.Patch<SessionSummary>(e.StreamId).Set(s => s.LastRunStatus, RunStatus.Failed).Set(s => s.UpdatedAt, e.Data.At);
}
