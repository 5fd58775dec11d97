namespace Conclave.Bench.Sandbox;

/// <summary>The bench/ table: figure, p50, p99, target, pass/fail.</summary>
internal sealed class Table
{
    private readonly List<string[]> _rows = [];

    public bool AllPassed { get; private set; } = true;

    public void Add(string figure, List<double> samples, string p50Target, string p99Target, double? p50Limit, double? p99Limit, string unit = "ms")
    {
        var p50 = Percentile(samples, 0.50);
        var p99 = Percentile(samples, 0.99);
        bool? passed = p50Limit is null && p99Limit is null ? null : (p50Limit is null || p50 <= p50Limit) && (p99Limit is null || p99 <= p99Limit);
        var target = p99Target == "-" ? p50Target : $"p50 {p50Target}, p99 {p99Target}";
        AddRow($"{figure} [n={samples.Count}]", $"{p50:0.0} {unit}", $"{p99:0.0} {unit}", target, passed);
    }

    public void AddRow(string figure, string p50, string p99, string target, bool? passed)
    {
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
        Console.WriteLine(Line(header));
        Console.WriteLine("|" + string.Join("|", widths.Select(w => new string('-', w + 2))) + "|");
        foreach (var row in _rows)
        {
            Console.WriteLine(Line(row));
        }
    }

    private static double Percentile(List<double> samples, double p)
    {
        if (samples.Count == 0)
        {
            return double.NaN;
        }
        var sorted = samples.Order().ToList();
        var rank = (int)Math.Ceiling(p * sorted.Count) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Count - 1)];
    }
}
