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

public sealed record TimelineEntry(long Version, EntryKind Kind, string Author, string Text, DateTimeOffset At)
{
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
