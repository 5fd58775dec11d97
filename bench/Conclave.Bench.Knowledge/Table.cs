namespace Conclave.Bench.Knowledge;

/// <summary>The bench/ table: figure, p50, p99, target, pass/fail ("info" where no target applies or in smoke mode).</summary>
internal sealed class Table(bool thresholds)
{
    private readonly List<string[]> _rows = [];

    public bool AllPassed { get; private set; } = true;

    public void Latency(string figure, IReadOnlyList<double> samplesMs, double? p50Limit, double? p99Limit)
    {
        var p50 = Percentile(samplesMs, 0.50);
        var p99 = Percentile(samplesMs, 0.99);
        var target = string.Join(", ", new[] { p50Limit is { } a ? $"p50 <= {a:0} ms" : null, p99Limit is { } b ? $"p99 <= {b:0} ms" : null }.Where(t => t is not null));
        bool? passed = p50Limit is null && p99Limit is null ? null : (p50Limit is null || p50 <= p50Limit) && (p99Limit is null || p99 <= p99Limit);
        Row($"{figure} [n={samplesMs.Count}]", $"{p50:0.00} ms", $"{p99:0.00} ms", target.Length > 0 ? target : "-", passed);
    }

    public void Value(string figure, string value, string target, bool? passed) => Row(figure, value, "-", target, passed);

    private void Row(string figure, string p50, string p99, string target, bool? passed)
    {
        if (!thresholds)
        {
            passed = null;
        }

        if (passed == false)
        {
            AllPassed = false;
        }

        _rows.Add([figure, p50, p99, target, passed switch { true => "pass", false => "FAIL", null => "info" }]);
    }

    public void Print()
    {
        string[] header = ["figure", "p50", "p99", "target", "result"];
        var widths = header.Select((h, i) => _rows.Select(r => r[i].Length).Append(h.Length).Max()).ToArray();
        string Line(string[] cells) => "| " + string.Join(" | ", cells.Select((c, i) => c.PadRight(widths[i]))) + " |";
        Console.WriteLine();
        Console.WriteLine(Line(header));
        Console.WriteLine("|" + string.Join("|", widths.Select(w => new string('-', w + 2))) + "|");
        foreach (var row in _rows)
        {
            Console.WriteLine(Line(row));
        }
    }

    public static double Percentile(IReadOnlyList<double> samples, double p)
    {
        if (samples.Count == 0)
        {
            return double.NaN;
        }

        var sorted = samples.Order().ToList();
        return sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
    }
}
