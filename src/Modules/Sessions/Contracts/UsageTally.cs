namespace Conclave.Sessions.Contracts;

/// <summary>
/// Tokens and cost of model calls, summed with the one rule for prices: a call whose provider has no
/// price has an unknown cost, never a cost of zero. Such calls are counted (<see cref="UnpricedCalls"/>),
/// and a total with any of them is a lower bound ("≥ $x"). The read models, the orchestrator's limits
/// and the UI all sum usage through it.
/// </summary>
/// <param name="KnownCost">US dollars of the calls whose price was known.</param>
/// <param name="UnpricedCalls">Calls that used tokens and had no price.</param>
public sealed record UsageTally(long PromptTokens, long CompletionTokens, decimal KnownCost, int UnpricedCalls)
{
    public static UsageTally None { get; } = new(0, 0, 0, 0);

    public long TotalTokens => PromptTokens + CompletionTokens;

    /// <summary>Some usage had no price: <see cref="KnownCost"/> is a lower bound of the cost.</summary>
    public bool CostIsLowerBound => UnpricedCalls > 0;

    /// <summary>One model call: its usage, and its cost if the provider has prices (null: unknown).</summary>
    public static UsageTally Of(TokenUsage usage, decimal? cost) => cost is { } known
        ? new(usage.PromptTokens, usage.CompletionTokens, known, 0)
        : new(usage.PromptTokens, usage.CompletionTokens, 0, usage.TotalTokens > 0 ? 1 : 0);

    public UsageTally Add(TokenUsage usage, decimal? cost) => this + Of(usage, cost);

    public static UsageTally operator +(UsageTally a, UsageTally b) => new(
        a.PromptTokens + b.PromptTokens, a.CompletionTokens + b.CompletionTokens, a.KnownCost + b.KnownCost, a.UnpricedCalls + b.UnpricedCalls);

    /// <summary>How the cost reads everywhere: known, a lower bound, or unknown; never a silent zero.</summary>
    public string CostText() =>
        !CostIsLowerBound ? Dollars(KnownCost)
        : KnownCost > 0 ? $"≥ {Dollars(KnownCost)} (some prices unknown)"
        : "cost unknown (no price set)";

    /// <summary>"1,234 tokens · $0.0123", with the cost marked where a price is missing.</summary>
    public override string ToString()
    {
        var tokens = $"{TotalTokens:N0} tokens";
        return TotalTokens == 0 ? tokens : $"{tokens} · {CostText()}";
    }

    private static string Dollars(decimal amount) => $"${amount:0.####}";
}
