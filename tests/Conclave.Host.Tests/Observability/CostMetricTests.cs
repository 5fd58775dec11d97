using Conclave.Agents.Contracts;
using Conclave.Sessions.Contracts;
using Conclave.Testing;

namespace Conclave.Host.Tests.Observability;

/// <summary>The cost metric adds up to what the session's usage says, and unknown prices are never a cost of zero.</summary>
[Collection(ObservedHost.Name)]
public sealed class CostMetricTests(ObservedApp app)
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task The_cost_metric_of_a_run_on_a_priced_provider_equals_the_runs_cost_to_the_cent()
    {
        var (owner, run) = await RunOnOwnProviderAsync("cost-priced", inputPrice: 2.5m, outputPrice: 10m, Reply.Text("Priced.").WithUsage(120_000, 45_000));

        var text = await app.ScrapeAsync();

        Assert.Equal(0.75m, run.Cost); // 120k x $2.5/M + 45k x $10/M
        var metered = PrometheusText.Sum(text, "conclave_cost_usd_total", ("user", owner), ("team", "Metered"), ("agent", "Counter"), ("provider", "Meter " + owner));
        Assert.Equal(Math.Round(run.Cost, 2), Math.Round((decimal)metered, 2));
        Assert.Equal(0, PrometheusText.Sum(text, "conclave_tokens_unpriced_total", ("user", owner)));
    }

    [Fact]
    public async Task Tokens_of_a_provider_without_prices_are_counted_as_unpriced_and_never_as_zero_cost()
    {
        var (owner, run) = await RunOnOwnProviderAsync("cost-unpriced", inputPrice: null, outputPrice: null, Reply.Text("Unpriced.").WithUsage(700, 300));

        var text = await app.ScrapeAsync();

        Assert.Equal(1, run.UnpricedCalls);
        Assert.Equal(700, PrometheusText.Sum(text, "conclave_tokens_unpriced_total", ("user", owner), ("gen_ai_token_type", "input")));
        Assert.Equal(300, PrometheusText.Sum(text, "conclave_tokens_unpriced_total", ("user", owner), ("gen_ai_token_type", "output")));
        Assert.False(PrometheusText.Has(text, "conclave_cost_usd_total", ("user", owner)), "a run without prices has a cost series: " + text);
    }

    private async Task<(string Owner, RunSummary Run)> RunOnOwnProviderAsync(string owner, decimal? inputPrice, decimal? outputPrice, Reply reply)
    {
        var provider = await app.Service<IProviders>().CreateAsync(
            owner, new ProviderInput("Meter " + owner, ProviderPreset.Custom, app.Provider.BaseUrl, ["metered-model"], "key-" + owner, inputPrice, outputPrice), None);
        var team = await app.Service<ITeams>().CreateAsync(owner, new TeamDefinition
        {
            Name = "Metered",
            Agents = [new AgentDefinition("Counter", "Answers", "You are Counter.", [], provider.Id)],
        }, None);
        var sessions = app.Service<ISessions>();
        var session = await sessions.CreateAsync(owner, "cost", None);
        await sessions.ChooseTeamAsync(owner, session.Id, team.Id, team.Name, None);
        app.Provider.Enqueue(reply);

        var posted = await sessions.PostMessageAsync(owner, session.Id, "How much?", None);
        Assert.IsType<RunCompleted>((await app.WaitForRunEndAsync(session.Id, posted.RunId, TimeSpan.FromSeconds(60))).Data);
        var run = (await sessions.RunsAsync(owner, session.Id, None)).Single(r => r.Id == posted.RunId);
        return (owner, run);
    }
}
