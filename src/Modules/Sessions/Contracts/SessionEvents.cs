namespace Conclave.Sessions.Contracts;

// The events of a session stream: everything a user sees in the timeline is one of these.
// Their type names are stored identities; rename only with an upcaster.

public sealed record SessionStarted(Guid SessionId, string OwnerId, string Title, DateTimeOffset At) : ITimelineEvent;

public sealed record SessionRenamed(string Title, DateTimeOffset At) : ITimelineEvent;

public sealed record SessionDeleted(DateTimeOffset At) : ITimelineEvent;

public sealed record UserMessagePosted(Guid MessageId, string AuthorId, string Text, DateTimeOffset At) : ITimelineEvent;

public sealed record RunQueued(Guid RunId, Guid MessageId, DateTimeOffset At) : ITimelineEvent;

public sealed record RunStarted(Guid RunId, string NodeId, DateTimeOffset At) : ITimelineEvent;

public sealed record AgentMessageCompleted(
    Guid RunId,
    Guid MessageId,
    string Agent,
    string Text,
    string Model,
    TokenUsage Usage,
    DateTimeOffset At) : ITimelineEvent;

public sealed record RunCompleted(Guid RunId, DateTimeOffset At) : ITimelineEvent;

public sealed record RunFailed(Guid RunId, string Reason, bool Orphaned, DateTimeOffset At) : ITimelineEvent;

public sealed record TokenUsage(int PromptTokens, int CompletionTokens)
{
    public static readonly TokenUsage None = new(0, 0);

    public int TotalTokens => PromptTokens + CompletionTokens;
}

public sealed record RunCancelled(Guid RunId, string Reason, DateTimeOffset At) : ITimelineEvent;
