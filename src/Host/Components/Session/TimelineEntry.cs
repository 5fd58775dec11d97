using System.Text;
using Conclave.Sessions.Contracts;

namespace Conclave.Host.Components.Session;

public enum EntryKind
{
    User,
    Agent,
    Tool,
    Error,
    Notice,
}

/// <summary>What the user may do with an entry besides copying it: their last message may be edited, and run again once its run ended.</summary>
public enum EntryActions
{
    None,
    Edit,
    EditOrRetry,
}

public sealed record TimelineEntry(long Version, EntryKind Kind, string Author, string Text, DateTimeOffset At)
{
    /// <summary>As shown: empty while <see cref="Folded"/>.</summary>
    public string Text { get; set; } = Text;

    /// <summary>A message of the history not drawn: its text is not held, and is read from the log again before it is drawn.</summary>
    public bool Folded { get; set; }

    public TokenUsage? Usage { get; set; }

    public decimal? Cost { get; set; }

    public string? Model { get; set; }

    public Guid? MessageId { get; set; }

    /// <summary>The passages an agent's answer cites, by the [n] in its text (none when it cites none).</summary>
    public IReadOnlyList<Citation> Citations { get; set; } = [];

    public ToolCallView? Tool { get; set; }

    /// <summary>Taken out of the conversation by an edit (kept, hidden unless asked for).</summary>
    public bool Superseded { get; set; }

    public bool Edited { get; set; }

    /// <summary>Made by a conversation event (a message, a run's): an edit can supersede it (<see cref="Conversation.Supersedes(UserMessageEdited, long, long, bool)"/>).</summary>
    public bool InConversation { get; init; }
}

/// <param name="Outcome">Null while the call runs.</param>
/// <param name="Approval">Set when the call waited for the user's approval.</param>
public sealed record ToolCallView(
    string CallId,
    string Name,
    string Arguments,
    string? Output = null,
    ToolOutcome? Outcome = null,
    IReadOnlyList<string>? Images = null,
    TimeSpan? Duration = null,
    ApprovalView? Approval = null);

public enum ApprovalState
{
    Pending,
    Approved,
    Denied,
    TimedOut,
}

/// <summary>A call's approval as the log tells it: waiting (until <see cref="ExpiresAt"/>), or answered.</summary>
public sealed record ApprovalView(Guid RunId, ApprovalState State, DateTimeOffset ExpiresAt, string? Reason = null, bool Always = false);

public sealed record StreamingMessage(Guid RunId, Guid MessageId, string Agent, StringBuilder Text);

/// <summary>Text offered for the message box; a new instance each time, so the same text can be offered twice.</summary>
public sealed class Suggestion(string text)
{
    public string Text { get; } = text;
}
