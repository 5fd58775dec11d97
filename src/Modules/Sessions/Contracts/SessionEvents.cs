using System.Text.Json.Serialization;

namespace Conclave.Sessions.Contracts;

// The events of a session stream: everything a user sees in the timeline is one of these.
// Their type names are stored identities; rename only with an upcaster. New fields go last, with defaults.

public sealed record SessionStarted(Guid SessionId, string OwnerId, string Title, DateTimeOffset At) : ITimelineEvent;

public sealed record SessionRenamed(string Title, DateTimeOffset At) : ITimelineEvent;

public sealed record SessionDeleted(DateTimeOffset At) : ITimelineEvent;

/// <summary>The session's team for the runs that follow.</summary>
public sealed record SessionTeamChanged(Guid TeamId, string TeamName, DateTimeOffset At) : ITimelineEvent;

public sealed record UserMessagePosted(Guid MessageId, string AuthorId, string Text, DateTimeOffset At) : ITimelineEvent;

/// <summary>
/// The last user message, edited: it and everything after it (<see cref="SupersededFromVersion"/> on)
/// are superseded, kept in the log but out of the conversation; a new run starts on the edited history.
/// </summary>
public sealed record UserMessageEdited(
    Guid MessageId,
    Guid ReplacesMessageId,
    long SupersededFromVersion,
    string AuthorId,
    string Text,
    DateTimeOffset At) : ITimelineEvent;

/// <param name="Limits">Overrides of the team's limits for this run.</param>
/// <param name="TraceParent">The W3C trace context of the request that queued the run: the run continues that trace, on any node, after any restart.</param>
public sealed record RunQueued(Guid RunId, Guid MessageId, DateTimeOffset At, string? OwnerId = null, RunOverrides? Limits = null, string? TraceParent = null) : IRunEvent;

/// <summary>Overrides of a team's limits for one run (null keeps the team's).</summary>
public sealed record RunOverrides(int? MaxTurns = null, long? MaxTokens = null, decimal? MaxCost = null, TimeSpan? MaxDuration = null);

/// <summary>A node started (or, after a pause or a lost node, went on with) the run.</summary>
/// <param name="Team">The team's name, for display.</param>
/// <param name="TeamSnapshot">On the first start: the team's definition (JSON, owned by the Agents module), so a resumed run keeps its team.</param>
public sealed record RunStarted(Guid RunId, string NodeId, DateTimeOffset At, string? Team = null, string? TeamSnapshot = null) : IRunEvent;

/// <param name="Cost">US dollars, from the provider's prices; null when a price is not configured (unknown, not zero).</param>
public sealed record AgentMessageCompleted(
    Guid RunId,
    Guid MessageId,
    string Agent,
    string Text,
    string Model,
    TokenUsage Usage,
    DateTimeOffset At,
    decimal? Cost = null,
    string? Provider = null) : IRunEvent;

/// <summary>The model chose the next speaker (model-selected teams); recorded for its usage and cost.</summary>
public sealed record SpeakerSelected(Guid RunId, string Agent, string Model, TokenUsage Usage, DateTimeOffset At, decimal? Cost = null) : IRunEvent;

/// <summary>An agent asked for a tool; part of the same step as the message that asked.</summary>
/// <param name="CallId">The provider's tool call id, unique in the run.</param>
/// <param name="Arguments">The arguments as the model sent them (JSON, possibly malformed); only a preview when <paramref name="ArgumentsCut"/>.</param>
/// <param name="ArgumentsCut">The arguments were over the Host's limit: the call is answered with a correction, never run.</param>
public sealed record ToolCallRequested(
    Guid RunId, string CallId, Guid MessageId, string Agent, string Tool, string Arguments, DateTimeOffset At, bool ArgumentsCut = false) : IRunEvent;

/// <param name="Output">What the agent is told (plain text).</param>
/// <param name="Images">Workspace-relative paths of images the tool produced.</param>
/// <param name="Passages">What a <c>search_knowledge</c> call returned, numbered as the agent read them in <paramref name="Output"/>; null for other tools.</param>
public sealed record ToolCallCompleted(
    Guid RunId,
    string CallId,
    string Agent,
    string Tool,
    string Output,
    ToolOutcome Outcome,
    IReadOnlyList<string> Images,
    TimeSpan Duration,
    DateTimeOffset At,
    IReadOnlyList<Citation>? Passages = null) : IRunEvent;

public enum ToolOutcome
{
    /// <summary>The tool ran and did what was asked.</summary>
    Ok,

    /// <summary>The tool ran and reported a failure the agent can fix (a Python error, a missing file).</summary>
    Error,

    /// <summary>The call named a tool that does not exist or had arguments that do not parse: the output corrects the agent.</summary>
    Rejected,

    /// <summary>The user denied the call (or let its approval time out): it did not run, and the output says why.</summary>
    Denied,
}

public sealed record RunCompleted(Guid RunId, DateTimeOffset At, string? Reason = null) : IRunEnded
{
    [JsonIgnore]
    public RunStatus Status => RunStatus.Completed;
}

public sealed record RunFailed(Guid RunId, string Reason, bool Orphaned, DateTimeOffset At) : IRunEnded
{
    [JsonIgnore]
    public RunStatus Status => RunStatus.Failed;
}

/// <summary>The user asked to pause; the run pauses at its next step boundary.</summary>
public sealed record RunPauseRequested(Guid RunId, DateTimeOffset At) : IRunEvent;

public sealed record RunPaused(Guid RunId, DateTimeOffset At) : IRunEvent;

public sealed record RunResumed(Guid RunId, DateTimeOffset At) : IRunEvent;

/// <summary>The reaper found the run's lease stale (its node died) and queued it again.</summary>
public sealed record RunRequeued(Guid RunId, int Attempt, string Reason, DateTimeOffset At) : IRunEvent;

/// <param name="Estimated">True when the provider reported no usage and the counts are estimated from the text.</param>
public sealed record TokenUsage(int PromptTokens, int CompletionTokens, bool Estimated = false)
{
    public static readonly TokenUsage None = new(0, 0);

    public int TotalTokens => PromptTokens + CompletionTokens;
}

public sealed record RunCancelled(Guid RunId, string Reason, DateTimeOffset At) : IRunEnded
{
    [JsonIgnore]
    public RunStatus Status => RunStatus.Cancelled;
}
