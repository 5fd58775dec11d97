using System.Globalization;
using Conclave.Agents.Contracts;
using Conclave.Sessions.Contracts;
using Conclave.Testing;
using Conclave.Testing.Host;

namespace Conclave.Host.Tests.Account;

/// <summary>The account page charts the last 30 days' cost and tokens by team and by model, as SVG drawn by the Host.</summary>
[Collection(SharedHost.Name)]
public sealed class UsageChartsTests(ConclaveApp app)
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task The_usage_page_charts_todays_cost_and_tokens_per_team_and_model_and_unpriced_calls_as_tokens_only()
    {
        var user = await app.CreateUserAsync("charted");
        var providers = app.Service<IProviders>();
        var priced = await providers.CreateAsync(
            user.Id, new ProviderInput("Chart priced", ProviderPreset.Custom, app.Provider.BaseUrl, ["chart-priced-model"], "key-chart-priced", 2.5m, 10m), None);
        var unpriced = await providers.CreateAsync(
            user.Id, new ProviderInput("Chart unpriced", ProviderPreset.Custom, app.Provider.BaseUrl, ["chart-free-model"], "key-chart-free", null, null), None);
        var team = await app.Service<ITeams>().CreateAsync(user.Id, new TeamDefinition
        {
            Name = "Chart team",
            Agents =
            [
                new AgentDefinition("Analyst", "Analyses", "You are Analyst.", [], priced.Id),
                new AgentDefinition("Reviewer", "Reviews", "You are Reviewer.", [], unpriced.Id),
            ],
            Termination = new TerminationRules { Keyword = "APPROVED", KeywordAgent = "Reviewer", MaxTurns = 4 },
        }, None);
        var sessions = app.Service<ISessions>();
        var session = await sessions.CreateAsync(user.Id, "charted", None);
        await sessions.ChooseTeamAsync(user.Id, session.Id, team.Id, team.Name, None);
        // 100k input x $2.5/M + 10k output x $10/M = $0.35 on the priced model; 1,000 tokens of unknown cost on the other.
        app.Provider.Enqueue(Reply.Text("The analysis is done.").WithUsage(100_000, 10_000), Reply.Text("APPROVED").WithUsage(600, 400));
        var posted = await sessions.PostMessageAsync(user.Id, session.Id, "Analyse this.", None);
        Assert.IsType<RunCompleted>((await app.WaitForRunEndAsync(session.Id, posted.RunId, TimeSpan.FromSeconds(60))).Data);
        using var browser = app.CreateCookieClient();
        await OidcFlow.SignInAsync(browser, "charted", ConclaveApp.Password);

        var page = await browser.GetStringAsync("/account");

        var today = DateTime.UtcNow.ToString("MMM d", CultureInfo.InvariantCulture);
        var costByModel = Figure(page, "chart-cost-model");
        Assert.Contains("role=\"img\"", costByModel);
        Assert.Contains("<title id=\"chart-cost-model-svg-title\">Cost per day, by model (USD, known prices)</title>", costByModel);
        Assert.Contains($"<title>{today}: chart-priced-model $0.35</title>", costByModel);
        Assert.DoesNotContain("chart-free-model", costByModel); // its cost is unknown, not zero
        Assert.Contains($"<title>{today}: Chart team $0.35</title>", Figure(page, "chart-cost-team"));
        var tokensByModel = Figure(page, "chart-tokens-model");
        Assert.Contains($"<title>{today}: chart-priced-model 110,000</title>", tokensByModel);
        Assert.Contains($"<title>{today}: chart-free-model 1,000</title>", tokensByModel);
        Assert.Contains($"<title>{today}: Chart team 111,000</title>", Figure(page, "chart-tokens-team"));
        Assert.Contains("data-testid=\"chart-tokens-model-table\"", tokensByModel);
        Assert.Contains("data-testid=\"usage-lower-bound\"", page);
    }

    [Fact]
    public async Task A_user_without_runs_sees_empty_charts_and_no_one_elses_usage()
    {
        await app.CreateUserAsync("uncharted");
        using var browser = app.CreateCookieClient();
        await OidcFlow.SignInAsync(browser, "uncharted", ConclaveApp.Password);

        var page = await browser.GetStringAsync("/account");

        Assert.Contains("data-testid=\"chart-cost-team-empty\"", Figure(page, "chart-cost-team"));
        Assert.DoesNotContain("<svg", Figure(page, "chart-tokens-model"));
        Assert.DoesNotContain("usage-lower-bound", page);
    }

    /// <summary>The HTML of one chart's figure on the page.</summary>
    private static string Figure(string page, string testId)
    {
        var start = page.IndexOf($"<figure class=\"chart\" data-testid=\"{testId}\"", StringComparison.Ordinal);
        Assert.True(start >= 0, $"no chart {testId} on the page");
        var end = page.IndexOf("</figure>", start, StringComparison.Ordinal);
        return page[start..end];
    }
}
