using System.Globalization;
using Conclave.Sessions.Contracts;

namespace Conclave.Host.Components.Charts;

/// <summary>One stacked series of a <see cref="DailyChart"/>: a value per day.</summary>
public sealed record ChartSeries(string Name, IReadOnlyList<double> Values)
{
    public double Total => Values.Sum();
}

/// <summary>
/// What <see cref="DailyBarChart"/> draws: a value per day for a few series, stacked. At most <see cref="MaxSeries"/>
/// series: the largest, the rest summed as "other", so colours and the legend stay readable.
/// </summary>
public sealed record DailyChart(string Title, string Description, IReadOnlyList<DateOnly> Days, IReadOnlyList<ChartSeries> Series, Func<double, string> Format)
{
    public const int MaxSeries = 5;

    public const string Other = "other";

    /// <summary>The largest stack: the top of the value axis.</summary>
    public double Max => Days.Count == 0 || Series.Count == 0 ? 0 : Enumerable.Range(0, Days.Count).Max(d => Series.Sum(s => s.Values[d]));

    public static DailyChart Of(
        string title, string description, IReadOnlyList<DailyUsage> usage, DateOnly from, DateOnly to,
        Func<DailyUsage, string> seriesOf, Func<DailyUsage, double> valueOf, Func<double, string> format)
    {
        var days = Enumerable.Range(0, to.DayNumber - from.DayNumber + 1).Select(from.AddDays).ToList();
        var index = days.Select((day, i) => (day, i)).ToDictionary(d => d.day, d => d.i);
        var series = usage
            .Where(u => index.ContainsKey(u.Day))
            .GroupBy(seriesOf, StringComparer.Ordinal)
            .Select(g =>
            {
                var values = new double[days.Count];
                foreach (var u in g)
                {
                    values[index[u.Day]] += valueOf(u);
                }

                return new ChartSeries(g.Key, values);
            })
            .Where(s => s.Total > 0)
            .OrderByDescending(s => s.Total)
            .ThenBy(s => s.Name, StringComparer.Ordinal)
            .ToList();
        if (series.Count > MaxSeries)
        {
            var rest = series.Skip(MaxSeries - 1).ToList();
            var summed = Enumerable.Range(0, days.Count).Select(d => rest.Sum(s => s.Values[d])).ToList();
            series = [.. series.Take(MaxSeries - 1), new ChartSeries(Other, summed)];
        }

        return new DailyChart(title, description, days, series, format);
    }

    public static string Dollars(double value) => value.ToString(value < 1 ? "$0.####" : "$#,0.00", CultureInfo.InvariantCulture);

    public static string Tokens(double value) => value.ToString("#,0", CultureInfo.InvariantCulture);
}
