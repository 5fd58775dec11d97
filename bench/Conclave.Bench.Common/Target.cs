using System.Globalization;

namespace Conclave.Bench.Common;

/// <summary>
/// What a figure must reach. A threshold (latency, throughput) is judged in full runs only; a check
/// (no errors, nothing lost) is judged in smoke runs too. No limit at all: a figure to report.
/// </summary>
public sealed record Target
{
    public double? P50AtMost { get; private init; }

    public double? TailAtMost { get; private init; }

    public double? AtLeast { get; private init; }

    public bool IsCheck { get; private init; }

    public static Target None { get; } = new();

    public bool IsNone => P50AtMost is null && TailAtMost is null && AtLeast is null;

    /// <summary>For samples: the median and the tail (p99 unless the figure says otherwise) at most these.</summary>
    public static Target Latency(double? p50, double? tail) => new() { P50AtMost = p50, TailAtMost = tail };

    /// <summary>For a single value (or the median of samples): at least this.</summary>
    public static Target AtLeastValue(double limit) => new() { AtLeast = limit };

    /// <summary>A count of errors that must be zero, in smoke runs as well.</summary>
    public static Target NoneAllowed { get; } = new() { P50AtMost = 0, IsCheck = true };

    public bool IsMetBy(Figure figure) =>
        (P50AtMost is not { } p50 || figure.P50 <= p50)
        && (TailAtMost is not { } tail || figure.Tail <= tail)
        && (AtLeast is not { } least || figure.P50 >= least);

    public string Describe(Figure figure)
    {
        if (IsNone)
        {
            return "-";
        }

        var median = figure.Tail is null ? "" : "p50 ";
        var unit = figure.Unit.Length > 0 ? " " + figure.Unit : "";
        var parts = new List<string>();
        if (P50AtMost is { } p50)
        {
            parts.Add($"{median}<= {Limit(p50)}{unit}");
        }

        if (TailAtMost is { } tail)
        {
            parts.Add($"p{figure.TailPercentile} <= {Limit(tail)}{unit}");
        }

        if (AtLeast is { } least)
        {
            parts.Add($"{median}>= {Limit(least)}{unit}");
        }

        return string.Join(", ", parts);
    }

    private static string Limit(double value) => value.ToString(CultureInfo.InvariantCulture);
}
