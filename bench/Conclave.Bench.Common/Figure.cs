using System.Globalization;

namespace Conclave.Bench.Common;

/// <summary>
/// One row of a bench's table: the median and tail of samples, or a single value (<see cref="Tail"/> null),
/// in <see cref="Unit"/>, against a <see cref="Target"/>.
/// </summary>
public sealed record Figure(string Name, double P50, double? Tail, string Unit, Target Target, int? SampleCount = null, int TailPercentile = 99)
{
    /// <summary>The median and the p99 (or <paramref name="tailPercentile"/>) of the samples.</summary>
    public static Figure Of(string name, IReadOnlyCollection<double> samples, string unit, Target target, int tailPercentile = 99) =>
        new(name, Percentiles.Of(samples, 50), Percentiles.Of(samples, tailPercentile), unit, target, samples.Count, tailPercentile);

    public static Figure Single(string name, double value, string unit, Target target) => new(name, value, null, unit, target);

    public string Label => SampleCount is { } n ? $"{Name} [n={n}]" : Name;

    /// <summary>Digits enough for what a bench measures: 0, 0.987, 4.21, 153.2, 12,345.</summary>
    public static string Format(double value) => Math.Abs(value) switch
    {
        double.NaN => "NaN",
        _ when value == Math.Round(value) && Math.Abs(value) < 10_000 => value.ToString("0", CultureInfo.InvariantCulture),
        < 1 => value.ToString("0.000", CultureInfo.InvariantCulture),
        < 100 => value.ToString("0.00", CultureInfo.InvariantCulture),
        < 10_000 => value.ToString("0.0", CultureInfo.InvariantCulture),
        _ => value.ToString("N0", CultureInfo.InvariantCulture),
    };
}
