namespace Conclave.Bench.Spine;

internal sealed record Figure(string Name, IReadOnlyList<double> SamplesMs, string Target, double TargetP50, double TargetTail, double TailPercentile = 99)
{
    public double P50 => Percentile(50);

    public double Tail => Percentile(TailPercentile);

    public bool Passed => P50 <= TargetP50 && Tail <= TargetTail;

    private double Percentile(double p)
    {
        var sorted = SamplesMs.Order().ToArray();
        var rank = (int)Math.Ceiling(p / 100 * sorted.Length) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Length - 1)];
    }
}

internal static class Table
{
    public static void Print(IEnumerable<Figure> figures)
    {
        Console.WriteLine();
        Console.WriteLine($"{"figure",-58} {"n",6} {"p50 ms",9} {"tail ms",12} {"target",-26} result");
        foreach (var f in figures)
        {
            Console.WriteLine(
                $"{f.Name,-58} {f.SamplesMs.Count,6} {f.P50,9:F2} {$"p{f.TailPercentile:0} {f.Tail:F2}",12} {f.Target,-26} {(f.Passed ? "PASS" : "FAIL")}");
        }
    }
}
