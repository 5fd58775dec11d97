using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text.RegularExpressions;
using Conclave.Agents.Runs;
using Conclave.Knowledge.Contracts;
using Conclave.Testing;

namespace Conclave.Host.Tests.Observability;

/// <summary>
/// deploy/prometheus and deploy/grafana: promtool accepts them, and every metric a panel or a rule names is
/// one the Host exports, even one no test run records. That every expression parses and every panel returns
/// data from a live Prometheus scraping a Host is <see cref="LiveDashboardsTests"/>.
/// </summary>
[Collection(ObservedHost.Name)]
public sealed partial class DeployedQueriesTests(ObservedApp app)
{
    private const string Promtool = "/usr/bin/promtool";

    [Fact]
    public async Task Promtool_accepts_the_prometheus_configuration_and_the_alert_rules()
    {
        Assert.True(File.Exists(Promtool), $"{Promtool} is missing: install it with scripts/deps.sh prometheus");
        using var check = Process.Start(new ProcessStartInfo(Path.Combine(DeployedQueries.Root(), "scripts", "prometheus.sh"), "check")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var output = check.StandardOutput.ReadToEndAsync();
        var errors = check.StandardError.ReadToEndAsync();
        await check.WaitForExitAsync();

        Assert.True(check.ExitCode == 0, $"promtool: {await output}\n{await errors}");
    }

    [Fact]
    public async Task Every_metric_a_dashboard_or_an_alert_rule_names_is_one_the_host_exports()
    {
        // Instruments exist once the service holding them does: the orchestrator's and the knowledge search's
        // are made on first use, which in this Host may not have come yet.
        _ = app.Service<RunOrchestrator>();
        _ = app.Service<IKnowledgeSearch>();
        // A run, so the outbound HTTP instruments (made on the first request) have series too.
        var session = await app.CreateSessionAsync("queries");
        app.Provider.Enqueue(Reply.Text("Counted."));
        var posted = await app.PostMessageAsync(session.Id, "Count this.");
        await app.WaitForRunEndAsync(session.Id, posted.RunId, TimeSpan.FromSeconds(60));
        var exported = Instruments().ToHashSet();
        foreach (var sample in PrometheusText.Samples(await app.ScrapeAsync()))
        {
            exported.Add(Regex.Replace(sample.Name, "_(bucket|sum|count)$", ""));
        }

        var unknown = DeployedQueries.All()
            .SelectMany(q => MetricNames(q.Expr).Select(name => (q.Where, Name: Regex.Replace(name, "_(bucket|sum|count)$", ""))))
            .Where(m => !exported.Contains(m.Name))
            .Select(m => $"{m.Where}: {m.Name}")
            .Distinct()
            .ToList();

        Assert.True(unknown.Count == 0, "metrics the Host does not export:\n" + string.Join("\n", unknown));
    }

    /// <summary>
    /// The Prometheus names of the instruments in this process (created, recorded or not), as well as a scrape's series: several
    /// Hosts in one test process share meter names, so a scrape of one may lack a series another Host's provider took.
    /// </summary>
    private IEnumerable<string> Instruments()
    {
        var names = new List<string>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                // Every meter the Host exports: its modules' and ASP.NET Core's, HttpClient's and the runtime's.
                if (instrument.Meter.Name.StartsWith("Conclave.", StringComparison.Ordinal) || instrument.Meter.Name.StartsWith("Microsoft.AspNetCore.", StringComparison.Ordinal)
                    || instrument.Meter.Name.StartsWith("System.", StringComparison.Ordinal))
                {
                    lock (names)
                    {
                        names.Add(PrometheusName(instrument));
                    }
                }
            },
        };
        listener.Start();
        return names;
    }

    private static string PrometheusName(Instrument instrument)
    {
        var name = instrument.Name.Replace('.', '_');
        name += instrument.Unit switch
        {
            "ms" => "_milliseconds",
            "s" => "_seconds",
            "By" => "_bytes",
            _ => "",
        };
        var counter = instrument.GetType().IsGenericType && instrument.GetType().GetGenericTypeDefinition() is var type
            && (type == typeof(Counter<>) || type == typeof(ObservableCounter<>));
        return counter ? name + "_total" : name;
    }

    /// <summary>The metric names of a PromQL expression: what is left once label lists, selectors and strings are removed.</summary>
    private static IEnumerable<string> MetricNames(string expr)
    {
        var bare = Grouping().Replace(Selector().Replace(expr, ""), "");
        return MetricLike().Matches(bare).Select(m => m.Value).Distinct();
    }

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex Selector();

    [GeneratedRegex(@"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")]
    private static partial Regex Grouping();

    [GeneratedRegex(@"(?<![\w:])(conclave|gen_ai|http|dotnet|kestrel|aspnetcore|wolverine)_[a-zA-Z0-9_]+(?![\w:])")]
    private static partial Regex MetricLike();
}
