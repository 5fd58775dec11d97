namespace Conclave.Bench.Common;

/// <summary>Nearest-rank percentiles: always one of the samples, never an interpolation between two.</summary>
public static class Percentiles
{
    /// <summary>The sample at or below which <paramref name="percentile"/> % of the samples fall; NaN when there are none.</summary>
    public static double Of(IEnumerable<double> samples, double percentile)
    {
        var sorted = samples.Order().ToArray();
        if (sorted.Length == 0)
        {
            return double.NaN;
        }

        var rank = (int)Math.Ceiling(percentile / 100 * sorted.Length) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Length - 1)];
    }
}
