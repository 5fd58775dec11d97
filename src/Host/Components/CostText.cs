namespace Conclave.Host.Components;

/// <summary>How a cost reads everywhere in the UI: known, a lower bound, or unknown, never a silent zero.</summary>
public static class CostText
{
    /// <param name="knownCost">US dollars of the usage whose price was known.</param>
    /// <param name="hasUnpriced">Some usage had no price.</param>
    public static string Of(decimal knownCost, bool hasUnpriced) =>
        !hasUnpriced ? $"${knownCost:0.####}"
        : knownCost > 0 ? $"≥ ${knownCost:0.####} (some prices unknown)"
        : "cost unknown (no price set)";

    public static string Of(Conclave.Sessions.Contracts.UsageTotals totals) => Of(totals.Cost, totals.UnpricedCalls > 0);
}
