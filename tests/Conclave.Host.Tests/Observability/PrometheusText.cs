using System.Globalization;
using System.Text.RegularExpressions;

namespace Conclave.Host.Tests.Observability;

/// <summary>Reads samples out of Prometheus' text format: enough for a test to add up a metric's series.</summary>
public static partial class PrometheusText
{
    public sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

    public static IReadOnlyList<Sample> Samples(string text) =>
        text.Split('\n')
            .Where(line => line.Length > 0 && line[0] != '#')
            .Select(line => SampleLine().Match(line))
            .Where(m => m.Success)
            .Select(m => new Sample(
                m.Groups["name"].Value,
                LabelPair().Matches(m.Groups["labels"].Value).ToDictionary(l => l.Groups["key"].Value, l => l.Groups["value"].Value),
                double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture)))
            .ToList();

    /// <summary>The sum of the series of <paramref name="name"/> whose labels include <paramref name="labels"/>.</summary>
    public static double Sum(string text, string name, params (string Key, string Value)[] labels) =>
        Samples(text)
            .Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Key, out var v) && v == l.Value))
            .Sum(s => s.Value);

    public static bool Has(string text, string name, params (string Key, string Value)[] labels) =>
        Samples(text).Any(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Key, out var v) && v == l.Value));

    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})?\s+(?<value>\S+)(\s+\d+)?$""")]
    private static partial Regex SampleLine();

    [GeneratedRegex(@"(?<key>[a-zA-Z_][a-zA-Z0-9_]*)=""(?<value>(?:[^""\\]|\\.)*)""")]
    private static partial Regex LabelPair();
}
