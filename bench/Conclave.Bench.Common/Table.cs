namespace Conclave.Bench.Common;

/// <summary>
/// The table every bench prints: figure, p50, p99, target, pass/fail. In a smoke run (tiny n, a check
/// that the bench still works) thresholds are not judged and the last column says "smoke".
/// </summary>
public sealed class Table(bool smoke)
{
    private readonly List<Figure> _figures = [];
    private readonly List<string> _notes = [];

    public bool Smoke => smoke;

    public Figure Add(Figure figure)
    {
        _figures.Add(figure);
        return figure;
    }

    /// <summary>A line printed under the table (what a figure leaves out, how it was measured).</summary>
    public void Note(string note) => _notes.Add(note);

    /// <summary>0 when every judged figure passed (a smoke run judges checks only), else 1.</summary>
    public int ExitCode => _figures.Any(f => Verdict(f) == "FAIL") ? 1 : 0;

    public void Print(TextWriter? output = null)
    {
        output ??= Console.Out;
        string[] header = ["figure", "p50", "p99", "target", "pass/fail"];
        var rows = _figures.Select(Cells).ToList();
        var widths = header.Select((h, i) => rows.Select(r => r[i].Length).Append(h.Length).Max()).ToArray();
        string Line(string[] cells) => "| " + string.Join(" | ", cells.Select((c, i) => c.PadRight(widths[i]))) + " |";
        output.WriteLine();
        output.WriteLine(Line(header));
        output.WriteLine("|" + string.Join("|", widths.Select(w => new string('-', w + 2))) + "|");
        foreach (var row in rows)
        {
            output.WriteLine(Line(row));
        }

        foreach (var note in _notes)
        {
            output.WriteLine(note);
        }
    }

    private string[] Cells(Figure f)
    {
        var unit = f.Unit.Length > 0 ? " " + f.Unit : "";
        var tail = f.Tail is { } t ? (f.TailPercentile == 99 ? "" : $"p{f.TailPercentile} ") + f.Format(t) + unit : "-";
        return [f.Label, f.Format(f.P50) + unit, tail, f.Target.Describe(f), Verdict(f)];
    }

    private string Verdict(Figure f) => f.Target switch
    {
        { IsNone: true } => "report",
        { IsCheck: false } when smoke => "smoke",
        var target => target.IsMetBy(f) ? "pass" : "FAIL",
    };
}
