namespace Conclave.Host.Components;

/// <summary>How a usage total's cost reads in the UI (<see cref="Conclave.Sessions.Contracts.UsageTally"/>'s rule).</summary>
public static class CostText
{
    public static string Of(Conclave.Sessions.Contracts.UsageTotals totals) => totals.Usage.CostText();
}
