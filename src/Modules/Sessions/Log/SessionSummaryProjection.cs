using Conclave.Sessions.Contracts;
using Marten.Events.Aggregation;

namespace Conclave.Sessions.Log;

/// <summary>Keeps <see cref="SessionSummary"/> in step with the stream, inline with each append.</summary>
internal sealed class SessionSummaryProjection : SingleStreamProjection<SessionSummary, Guid>
{
    public static SessionSummary Create(SessionStarted e) => new()
    {
        Id = e.SessionId,
        OwnerId = e.OwnerId,
        Title = e.Title,
        CreatedAt = e.At,
        UpdatedAt = e.At,
    };

    public static SessionSummary Apply(SessionRenamed e, SessionSummary s) => s with { Title = e.Title, UpdatedAt = e.At };

    public static SessionSummary Apply(SessionDeleted e, SessionSummary s) => s with { Deleted = true, UpdatedAt = e.At };

    public static SessionSummary Apply(UserMessagePosted e, SessionSummary s) =>
        s with { MessageCount = s.MessageCount + 1, UpdatedAt = e.At };

    public static SessionSummary Apply(RunQueued e, SessionSummary s) =>
        s with { RunCount = s.RunCount + 1, LastRunStatus = RunStatus.Queued, UpdatedAt = e.At };

    public static SessionSummary Apply(RunStarted e, SessionSummary s) => s with { LastRunStatus = RunStatus.Running };

    public static SessionSummary Apply(AgentMessageCompleted e, SessionSummary s) => s with
    {
        MessageCount = s.MessageCount + 1,
        PromptTokens = s.PromptTokens + e.Usage.PromptTokens,
        CompletionTokens = s.CompletionTokens + e.Usage.CompletionTokens,
        UpdatedAt = e.At,
    };

    public static SessionSummary Apply(RunCompleted e, SessionSummary s) =>
        s with { LastRunStatus = RunStatus.Completed, UpdatedAt = e.At };

    public static SessionSummary Apply(RunFailed e, SessionSummary s) =>
        s with { LastRunStatus = RunStatus.Failed, UpdatedAt = e.At };
}
