using System.Globalization;
using Conclave.Deployment.Tests.Fixtures;

namespace Conclave.Deployment.Tests.Image;

/// <summary>
/// The image's figures as a table (figure, value, target, result) in the test's output and in
/// $CONCLAVE_DATA/image-figures.md: build, size, cold starts to /health/ready.
/// </summary>
internal static class Figures
{
    public const double ColdStartTargetSeconds = 60;
    public const double SizeTargetBytes = 1.5 * 1024 * 1024 * 1024;

    public static void Print(ITestOutputHelper output, string title, params (string Figure, string Value, string Target, bool Pass)[] rows)
    {
        var lines = new List<string>
        {
            $"### {title} ({Environment.ProcessorCount} cores, load {Load()})",
            "| figure | value | target | result |",
            "|---|---|---|---|",
        };
        lines.AddRange(rows.Select(r => $"| {r.Figure} | {r.Value} | {r.Target} | {(r.Pass ? "pass" : "FAIL")} |"));
        foreach (var line in lines)
        {
            output.WriteLine(line);
        }
        File.AppendAllLines(Path.Combine(Repository.Data, "image-figures.md"), [.. lines, ""]);
    }

    public static string Seconds(TimeSpan elapsed) => elapsed.TotalSeconds.ToString("0.0 s", CultureInfo.InvariantCulture);

    public static string Size(long bytes) => (bytes / 1024.0 / 1024.0).ToString("0 MiB", CultureInfo.InvariantCulture);

    private static string Load() =>
        File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?";
}
