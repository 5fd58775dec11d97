using System.Net;
using System.Net.Http.Json;
using Conclave.Sessions.Contracts;
using Conclave.Testing;
using Conclave.Testing.Host;

namespace Conclave.Host.Tests.Agents;

/// <summary>One run at a time and 100 tokens a day: small enough to hit in a test.</summary>
public sealed class TightQuotaApp : ConclaveApp
{
    public TightQuotaApp()
    {
        ExtraSettings["Conclave:Quotas:MaxConcurrentRuns"] = "1";
        ExtraSettings["Conclave:Quotas:DailyTokenBudget"] = "100";
    }
}

/// <summary>Quotas refuse a run before anything is appended, with a message saying which and until when.</summary>
public sealed class QuotaTests(TightQuotaApp app) : IClassFixture<TightQuotaApp>
{
    [Fact]
    public async Task A_second_concurrent_run_then_a_run_over_the_daily_budget_are_refused_and_append_nothing()
    {
        var session = await app.CreateSessionAsync();
        app.Provider.Enqueue(Reply.Chunks("slow ", "answer").StallAfter(1));
        var index = app.Provider.Requests.Count;
        var first = await app.PostMessageAsync(session.Id, "first");
        await app.Provider.WaitForRequestAsync(index, TimeSpan.FromSeconds(30)); // the stalling reply is taken
        var before = (await app.EventsAsync(session.Id)).Count;
        var running = await app.Client.GetFromJsonAsync<List<RunSummary>>($"/api/v1/sessions/{session.Id}/runs", Json.Options);
        Assert.Equal(RunStatus.Running, Assert.Single(running!).Status);
        Assert.Equal(ConclaveApp.DefaultUserId, running![0].OwnerId);

        var second = await app.Client.PostAsJsonAsync($"/api/v1/sessions/{session.Id}/messages", new { text = "second" });

        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
        Assert.Contains("1 run(s) going", await second.Content.ReadAsStringAsync());
        Assert.Equal(before, (await app.EventsAsync(session.Id)).Count);
        await app.Client.PostAsync($"/api/v1/sessions/{session.Id}/runs/{first.RunId}/cancel", null);
        await app.WaitForRunEndAsync(session.Id, first.RunId);

        // Used up today's 100 tokens: the next run is refused until midnight UTC.
        app.Provider.Enqueue(Reply.Text("a costly answer").WithUsage(90, 20));
        var third = await app.PostMessageAsync(session.Id, "third");
        await app.WaitForRunEndAsync(session.Id, third.RunId);
        var count = (await app.EventsAsync(session.Id)).Count;
        var used = await app.Client.GetFromJsonAsync<UsageTotals>("/api/v1/usage", Json.Options);
        Assert.Equal(110, used!.TotalTokens);
        var fourth = await app.Client.PostAsJsonAsync($"/api/v1/sessions/{session.Id}/messages", new { text = "fourth" });

        Assert.Equal(HttpStatusCode.TooManyRequests, fourth.StatusCode);
        Assert.Contains("daily budget is 100", await fourth.Content.ReadAsStringAsync());
        Assert.True(fourth.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        Assert.Equal(count, (await app.EventsAsync(session.Id)).Count);
    }
}

/// <summary>An admin's limits for one user replace the defaults for that user only.</summary>
public sealed class UserQuotaTests(ConclaveApp app) : IClassFixture<ConclaveApp>
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task A_users_own_daily_budget_refuses_their_next_run_and_removing_it_restores_the_default()
    {
        var quotas = app.Service<IQuotas>();
        var sessions = app.Service<ISessions>();
        await quotas.SetAsync("limited", new QuotaOverride(null, 50, null), None);
        var session = await sessions.CreateAsync("limited", "budget", None);
        app.Provider.Enqueue(Reply.Text("an answer").WithUsage(40, 20));
        var first = await sessions.PostMessageAsync("limited", session.Id, "one", None);
        await app.WaitForRunEndAsync(session.Id, first.RunId);

        var refused = await Assert.ThrowsAsync<QuotaExceededException>(() => sessions.PostMessageAsync("limited", session.Id, "two", None));

        Assert.Contains("daily budget is 50", refused.Message);
        Assert.Equal(new QuotaSettings(1000, 50, null, true), await quotas.GetAsync("limited", None));
        Assert.Equal(60, (await quotas.UsageByOwnerAsync(DateTimeOffset.UtcNow.AddDays(-1), None))["limited"].TotalTokens);
        Assert.False((await quotas.GetAsync("someone-else", None)).Custom);
        await Assert.ThrowsAsync<SessionValidationException>(() => quotas.SetAsync("limited", new QuotaOverride(0, null, null), None));

        await quotas.SetAsync("limited", null, None);
        app.Provider.Enqueue(Reply.Text("again"));
        var third = await sessions.PostMessageAsync("limited", session.Id, "three", None);
        Assert.IsType<RunCompleted>((await app.WaitForRunEndAsync(session.Id, third.RunId)).Data);
    }
}
