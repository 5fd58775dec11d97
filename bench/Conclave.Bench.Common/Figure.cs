using System.Globalization;

namespace Conclave.Bench.Common;

/// <summary>
/// One row of a bench's table: the median and tail of samples, or a single value (<see cref="Tail"/> null),
/// in <see cref="Unit"/>, against a <see cref="Target"/>. A count (<see cref="IsCount"/>) prints without decimals.
/// </summary>
public sealed record Figure(string Name, double P50, double? Tail, string Unit, Target Target, int? SampleCount = null, int TailPercentile = 99, bool IsCount = false)
{
    /// <summary>The median and the p99 (or <paramref name="tailPercentile"/>) of the samples.</summary>
    public static Figure Of(string name, IReadOnlyCollection<double> samples, string unit, Target target, int tailPercentile = 99) =>
        new(name, Percentiles.Of(samples, 50), Percentiles.Of(samples, tailPercentile), unit, target, samples.Count, tailPercentile);

    public static Figure Single(string name, double value, string unit, Target target) => new(name, value, null, unit, target);

    public static Figure Count(string name, int count, string unit, Target target) => new(name, count, null, unit, target, IsCount: true);

    public string Label => SampleCount is { } n ? $"{Name} [n={n}]" : Name;

    public string Format(double value) => IsCount ? value.ToString("N0", CultureInfo.InvariantCulture) : Measured(value);

    /// <summary>Digits enough for what a bench measures: 0.987, 4.21, 153.2, 12,345.</summary>
    private static string Measured(double value) => Math.Abs(value) switch
    {
        double.NaN => "NaN",
        < 1 => value.ToString("0.000", CultureInfo.InvariantCulture),
        < 100 => value.ToString("0.00", CultureInfo.InvariantCulture),
        < 10_000 => value.ToString("0.0", CultureInfo.InvariantCulture),
        _ => value.ToString("N0", CultureInfo.InvariantCulture),
    };
}
