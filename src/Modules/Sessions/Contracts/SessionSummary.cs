using System.Text.Json.Serialization;

namespace Conclave.Sessions.Contracts;

/// <summary>The session list's read model (a Marten projection of the session stream).</summary>
public sealed record SessionSummary
{
    public Guid Id { get; init; }
    public string OwnerId { get; init; } = "";
    public string Title { get; init; } = "";
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    public int MessageCount { get; init; }
    public int RunCount { get; init; }
    public RunStatus LastRunStatus { get; init; } = RunStatus.None;
    public long PromptTokens { get; init; }
    public long CompletionTokens { get; init; }

    /// <summary>US dollars of the messages whose price was known; see <see cref="UnpricedMessages"/>.</summary>
    public decimal Cost { get; init; }

    /// <summary>
    /// Model calls (agent messages and speaker selections) whose cost is unknown, their provider having no
    /// price: when above 0, <see cref="Cost"/> is a lower bound. Stored and served under its first name.
    /// </summary>
    public int UnpricedMessages { get; init; }

    /// <summary>The usage fields as one tally (not stored: they are its storage).</summary>
    [JsonIgnore]
    public UsageTally Usage => new(PromptTokens, CompletionTokens, Cost, UnpricedMessages);

    /// <summary>The team for the next runs; null means the default (the built-in Assistant).</summary>
    public Guid? TeamId { get; init; }

    public string? TeamName { get; init; }

    /// <summary>The last run, whose status <see cref="LastRunStatus"/> is.</summary>
    public Guid? LastRunId { get; init; }
    public bool Deleted { get; init; }
}

public enum RunStatus
{
    None,
    Queued,
    Running,
    /// <summary>A pause was asked for; the run pauses at its next step boundary.</summary>
    Pausing,
    Paused,

    /// <summary>A tool call waits for the user's approval; nobody executes the run until it is answered.</summary>
    AwaitingApproval,
    Completed,
    Failed,
    Cancelled,
}
