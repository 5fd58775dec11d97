using System.Text.RegularExpressions;
using Conclave.Agents.Contracts;
using Conclave.Knowledge.Contracts;
using Conclave.Sessions.Contracts;
using Conclave.Testing;
using Conclave.Testing.Host;

namespace Conclave.Host.Tests.Observability;

/// <summary>
/// The dashboards and alert rules of deploy/ proven against live data: Debian's Prometheus, with the shipped
/// configuration and rules, scrapes the observed Host (public port, scrape token) every second while a two-agent team
/// works with a tool call on a priced and an unpriced provider. Then every panel's query and every rule's expression
/// is evaluated through Prometheus' HTTP API: each must parse, and each panel must return data with a number in it.
/// </summary>
[Collection(ObservedHost.Name)]
public sealed partial class LiveDashboardsTests(ObservedApp app)
{
    private const string Job = "conclave";
    private static readonly CancellationToken None = CancellationToken.None;

    /// <summary>
    /// Grafana's own variables, as the dashboards would have them over the test: a window that holds the whole run (a
    /// dashboard's $__rate_interval is at least four scrape intervals, and its range covers what it shows).
    /// </summary>
    private static readonly Dictionary<string, string> GrafanaVariables = new(StringComparer.Ordinal)
    {
        ["$__rate_interval"] = "5m",
        ["$__interval"] = "5m",
        ["$__range"] = "5m",
    };

    /// <summary>
    /// The panels whose query ends in <c>or vector(0)</c> and whose metric this run does not record, with why. Every
    /// other such panel must return data without its <c>or vector(0)</c> too; an exception that does is an error here.
    /// </summary>
    private static readonly Dictionary<string, string> ZeroOnlyPanels = new(StringComparer.Ordinal)
    {
        ["knowledge-and-web.json 'Documents indexed by outcome (1 h)' A"] =
            "no document is ingested here (the Knowledge tests do that); the counter's outcomes are only known once one is",
        ["knowledge-and-web.json 'search_knowledge tool calls by outcome (1 h)' A"] =
            "the team has no knowledge, so its agents are not offered search_knowledge (a call of a tool not offered is rejected as 'unknown')",
    };

    [Fact]
    public async Task Every_panel_query_returns_data_and_every_rule_evaluates_against_a_prometheus_scraping_the_host()
    {
        await using var prometheus = PrometheusServer.Start(app.BaseAddress, ObservedApp.ScrapeToken);
        await Eventually.Until(prometheus.ReadyAsync, TimeSpan.FromSeconds(60), "Prometheus starts");
        await Eventually.Until(
            async () => await prometheus.TargetHealthAsync(Job) == "up",
            TimeSpan.FromSeconds(60),
            $"Prometheus scrapes the Host with the scrape token (its log:\n{prometheus.Output})");

        var (session, team) = await TwoAgentTeamAsync();
        using var stopWatching = new CancellationTokenSource();
        var watching = Watch(session.Id, stopWatching.Token);
        await watching.Connected;

        // Counters and histograms start with their first measurement, and rate()/increase() need a sample before
        // an increase: the first run makes the series, Prometheus takes them, the second run moves them.
        var runsEnded = RunsEnded(await app.ScrapeAsync());
        await RunAsync(session.Id, 6, expectCompleted: true);
        await SearchKnowledgeAsync();
        await ScrapedAfterAsync(prometheus, runsEnded + 1);
        await RunAsync(session.Id, 7, expectCompleted: true);
        // A model call the provider refuses (HTTP 400, not retried) fails the third run: provider errors and a failed run.
        app.Provider.Enqueue(Reply.Error(400, "This model does not take such requests."));
        await RunAsync(session.Id, 8, expectCompleted: false);
        await SearchKnowledgeAsync();
        stopWatching.Cancel();
        await watching.Done;
        // Twice: a series born in the last run (provider errors) needs two samples before increase() has a value.
        await ScrapedAfterAsync(prometheus, runsEnded + 3);
        await ScrapedAfterAsync(prometheus, runsEnded + 3);
        var evaluatedAfter = DateTimeOffset.UtcNow;
        await Eventually.Until(
            async () => (await prometheus.RulesAsync()).All(r => r.LastEvaluation > evaluatedAfter),
            TimeSpan.FromSeconds(30),
            "Prometheus evaluates every rule once more after the last scrape");

        var failures = new List<string>();
        var checkedPanels = 0;
        foreach (var query in DeployedQueries.Panels())
        {
            checkedPanels++;
            var expr = WithGrafanaVariables(query.Expr);
            var answer = await prometheus.QueryAsync(expr);
            if (answer.Error is not null || !answer.Samples.Any(s => double.IsFinite(s.Value)))
            {
                failures.Add($"{query.Where}: {expr}\n    -> {answer}");
                continue;
            }

            if (OrZero().Match(expr) is { Success: true } orZero)
            {
                var metric = await prometheus.QueryAsync(orZero.Groups["query"].Value);
                var excused = ZeroOnlyPanels.TryGetValue(query.Where, out var why);
                if (metric.Samples.Count == 0 && !excused)
                {
                    failures.Add($"{query.Where}: returns data only through 'or vector(0)' (initialise the counter, or record it in this run): {expr}");
                }
                else if (metric.Samples.Count > 0 && excused)
                {
                    failures.Add($"{query.Where}: listed as zero-only ({why}) but returns data without 'or vector(0)': remove it from {nameof(ZeroOnlyPanels)}");
                }
            }
        }

        foreach (var rule in DeployedQueries.Rules())
        {
            var answer = await prometheus.QueryAsync(rule.Expr);
            if (answer.Error is not null)
            {
                failures.Add($"{rule.Where} ({rule.Name}): {rule.Expr}\n    -> {answer.Error}");
            }
        }

        var loaded = await prometheus.RulesAsync();
        failures.AddRange(loaded.Where(r => r.Health != "ok").Select(r => $"rule {r.Name} is {r.Health}: {r.LastError}"));
        var shipped = DeployedQueries.Rules().Select(r => r.Name).ToList();
        Assert.Equal(shipped.Order(StringComparer.Ordinal), loaded.Select(r => r.Name).Order(StringComparer.Ordinal));
        Assert.True(checkedPanels >= 40, $"only {checkedPanels} panel queries were found in deploy/grafana/dashboards");
        Assert.True(failures.Count == 0, $"{failures.Count} of {checkedPanels} panel queries and {shipped.Count} rules:\n" + string.Join("\n", failures));
        // The known cost is the priced provider's alone, and unpriced tokens appear as such.
        Assert.Equal(2 * 0.75, (await prometheus.QueryAsync($"sum(conclave_cost_usd_total{{team=\"{team}\"}})")).Samples.Single().Value, 6);
        Assert.Equal(2 * 1_000, (await prometheus.QueryAsync($"sum(conclave_tokens_unpriced_total{{team=\"{team}\"}})")).Samples.Single().Value);
    }

    /// <summary>A team of two on the default user's own providers: Analyst (priced, with run_python), then Reviewer (unpriced).</summary>
    private async Task<(SessionSummary Session, string Team)> TwoAgentTeamAsync()
    {
        const string Owner = ConclaveApp.DefaultUserId;
        var providers = app.Service<IProviders>();
        var priced = await providers.CreateAsync(
            Owner, new ProviderInput("Live priced", ProviderPreset.Custom, app.Provider.BaseUrl, ["priced-model"], "key-live-priced", 2.5m, 10m), None);
        var unpriced = await providers.CreateAsync(
            Owner, new ProviderInput("Live unpriced", ProviderPreset.Custom, app.Provider.BaseUrl, ["unpriced-model"], "key-live-unpriced", null, null), None);
        var team = await app.Service<ITeams>().CreateAsync(Owner, new TeamDefinition
        {
            Name = "Live dashboards",
            Agents =
            [
                new AgentDefinition("Analyst", "Computes", "You are Analyst.", ["run_python"], priced.Id),
                new AgentDefinition("Reviewer", "Checks", "You are Reviewer.", [], unpriced.Id),
            ],
            Termination = new TerminationRules { Keyword = "APPROVED", KeywordAgent = "Reviewer", MaxTurns = 6 },
        }, None);
        var session = await app.CreateSessionAsync("live dashboards");
        await app.Service<ISessions>().ChooseTeamAsync(Owner, session.Id, team.Id, team.Name, None);
        return (session, team.Name);
    }

    /// <summary>Posts a message (over HTTP, so the trace starts at the POST) and waits for the run's end.</summary>
    private async Task RunAsync(Guid sessionId, int factor, bool expectCompleted)
    {
        if (expectCompleted)
        {
            // Analyst: a tool call, then its answer with the result (120k + 45k tokens at $2.5/$10 per M = $0.75 over both);
            // Reviewer, unpriced: 1,000 tokens of unknown cost, and the keyword.
            app.Provider.Enqueue(
                Reply.ToolCall("run_python", $$"""{"code": "print({{factor}} * 7)"}""").WithUsage(60_000, 5_000),
                Reply.Text($"{factor} times seven is {factor * 7}.").WithUsage(60_000, 40_000),
                Reply.Text($"Checked {factor * 7}: APPROVED.").WithUsage(700, 300));
        }

        var posted = await app.PostMessageAsync(sessionId, $"What is {factor} times seven?");
        var end = await app.WaitForRunEndAsync(sessionId, posted.RunId, TimeSpan.FromSeconds(90));
        Assert.True(expectCompleted ? end.Data is RunCompleted : end.Data is RunFailed, $"the run ended with {end.Type}: {end.Data}");
    }

    /// <summary>A full-text knowledge search, as the search_knowledge tool makes (no embedding model needed).</summary>
    private Task SearchKnowledgeAsync() =>
        app.Service<IKnowledgeSearch>().SearchAsync(new KnowledgeQuery(ConclaveApp.DefaultUserId, [Guid.NewGuid()], "dashboards", Mode: RetrievalMode.FullText), None);

    /// <summary>
    /// Waits until the Host's metrics count <paramref name="runsEnded"/> ended runs (a run's figures are recorded just
    /// after the event a test waits for), then for a scrape that began after that.
    /// </summary>
    private async Task ScrapedAfterAsync(PrometheusServer prometheus, double runsEnded)
    {
        await Eventually.Until(async () => RunsEnded(await app.ScrapeAsync()) >= runsEnded, TimeSpan.FromSeconds(30), $"the Host counts {runsEnded} ended runs");
        var after = DateTimeOffset.UtcNow;
        await Eventually.Until(
            async () => await prometheus.LastScrapeAsync(Job) is { } last && last > after,
            TimeSpan.FromSeconds(30),
            $"Prometheus scrapes the Host again (its log:\n{prometheus.Output})");
    }

    /// <summary>An SSE client on the session for the whole test: the subscriber gauge and the feed lag get figures.</summary>
    private Watcher Watch(Guid sessionId, CancellationToken stop)
    {
        var connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        async Task ReadAsync()
        {
            try
            {
                await foreach (var _ in SseClient.ReadAsync(app.Client, sessionId, null, stop))
                {
                    connected.TrySetResult();
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // The test is done watching.
            }
            catch (Exception e)
            {
                connected.TrySetException(e);
                throw;
            }
        }

        return new Watcher(connected.Task, ReadAsync());
    }

    private static double RunsEnded(string scrape) => PrometheusText.Sum(scrape, "conclave_runs_ended_total");

    private sealed record Watcher(Task Connected, Task Done);

    private static string WithGrafanaVariables(string expr)
    {
        foreach (var (variable, value) in GrafanaVariables)
        {
            expr = expr.Replace(variable, value, StringComparison.Ordinal);
        }

        Assert.False(expr.Contains('$', StringComparison.Ordinal), $"a dashboard variable this test does not know: {expr}");
        return expr;
    }

    [GeneratedRegex(@"^(?<query>.+?)\s+or\s+vector\(0\)\s*$")]
    private static partial Regex OrZero();
}
