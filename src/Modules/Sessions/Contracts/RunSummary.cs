using System.Text.Json.Serialization;

namespace Conclave.Sessions.Contracts;

/// <summary>One run's read model (a Marten projection): status, team, usage and cost so far.</summary>
public sealed record RunSummary
{
    /// <summary>The run's id.</summary>
    public Guid Id { get; init; }
    public Guid SessionId { get; init; }
    public string OwnerId { get; init; } = "";
    public RunStatus Status { get; init; } = RunStatus.Queued;

    /// <summary>Queued or running: it counts against the user's concurrent runs (a paused run does not).</summary>
    public bool Active { get; init; } = true;
    public string? Team { get; init; }
    public DateTimeOffset QueuedAt { get; init; }
    public DateTimeOffset? EndedAt { get; init; }

    /// <summary>Why it ended, when a rule, a limit, the user or a failure ended it.</summary>
    public string? Reason { get; init; }

    public int Messages { get; init; }
    public int ToolCalls { get; init; }
    public long PromptTokens { get; init; }
    public long CompletionTokens { get; init; }

    /// <summary>US dollars of the usage whose price was known.</summary>
    public decimal Cost { get; init; }

    /// <summary>Model calls without a price: when above 0, <see cref="Cost"/> is a lower bound.</summary>
    public int UnpricedCalls { get; init; }

    /// <summary>The usage fields above as one tally (not stored: they are its storage).</summary>
    [JsonIgnore]
    public UsageTally Usage => new(PromptTokens, CompletionTokens, Cost, UnpricedCalls);
}

/// <summary>A user's usage over a period, summed from the runs' read models.</summary>
public sealed record UsageTotals(int Runs, long PromptTokens, long CompletionTokens, decimal Cost, int UnpricedCalls)
{
    public long TotalTokens => PromptTokens + CompletionTokens;

    /// <summary>The usage fields as one tally (not serialized: they are its wire form).</summary>
    [JsonIgnore]
    public UsageTally Usage => new(PromptTokens, CompletionTokens, Cost, UnpricedCalls);
}
