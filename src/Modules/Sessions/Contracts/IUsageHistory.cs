using System.Text.Json.Serialization;

namespace Conclave.Sessions.Contracts;

/// <summary>A user's usage over time, by UTC day, team and model: what the usage page charts.</summary>
public interface IUsageHistory
{
    /// <summary>
    /// The model calls (agents' messages and speaker selections) of <paramref name="ownerId"/>'s runs queued since
    /// <paramref name="since"/>, summed per UTC day, team and model; days without calls are absent.
    /// </summary>
    Task<IReadOnlyList<DailyUsage>> DailyAsync(string ownerId, DateTimeOffset since, CancellationToken cancellationToken);
}

/// <param name="Team">The run's team; empty for a run without one (the installation's default agent).</param>
/// <param name="Cost">US dollars of the calls whose price was known; a lower bound when <paramref name="UnpricedCalls"/> is above 0.</param>
public sealed record DailyUsage(DateOnly Day, string Team, string Model, long PromptTokens, long CompletionTokens, decimal Cost, int UnpricedCalls)
{
    public long TotalTokens => PromptTokens + CompletionTokens;

    /// <summary>The usage fields as one tally (not serialized: they are its wire form).</summary>
    [JsonIgnore]
    public UsageTally Usage => new(PromptTokens, CompletionTokens, Cost, UnpricedCalls);
}
