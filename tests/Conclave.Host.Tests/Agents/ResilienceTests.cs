using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Conclave.Sessions.Contracts;
using Conclave.Testing;
using Conclave.Testing.Host;
using Npgsql;

namespace Conclave.Host.Tests.Agents;

/// <summary>No run stays stuck: a restart, a lost node or a stolen lease hands the run on, and no step is lost or repeated.</summary>
public sealed class ResilienceTests(ConclaveApp app) : IClassFixture<ConclaveApp>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_run_cut_by_a_host_restart_finishes_on_the_new_host_from_its_last_step()
    {
        var session = await app.CreateSessionAsync();
        var first = app.Provider.Requests.Count;
        app.Provider.Enqueue(
            Reply.ToolCall("list_files", "{}", id: "call_before_restart"),
            Reply.Chunks("Half an ", "answer").StallAfter(1));
        var posted = await app.PostMessageAsync(session.Id, "List my files, then explain.");
        var stalled = await app.Provider.WaitForRequestAsync(first + 1, Deadline);
        await stalled.WaitForChunkSentAsync(0, Deadline);

        app.Provider.Enqueue(Reply.Text("The workspace is empty."));
        await app.RestartAsync();
        var end = await EndOrExplainAsync(session.Id, posted.RunId);

        Assert.True(end.Data is RunCompleted, string.Join("\n", (await app.EventsAsync(session.Id)).Select(e => e.Data.ToString())));
        var events = await app.EventsAsync(session.Id);
        AssertNoStepTwice(events);
        Assert.Single(events, e => e.Data is ToolCallCompleted);
        Assert.Contains(events, e => e.Data is RunRequeued);
        Assert.Equal(["", "The workspace is empty."], events.Select(e => e.Data).OfType<AgentMessageCompleted>().Select(m => m.Text));
        // The new host went on from the log: its request holds the tool result, the list was not asked for again.
        var resumed = app.Provider.Requests[first + 2];
        Assert.Contains(resumed.Messages, m => m.Role == "tool" && m.ToolCallId == "call_before_restart");
        Assert.Equal(3, app.Provider.Requests.Count - first);
    }

    [Fact]
    public async Task A_run_whose_lease_went_stale_is_requeued_by_the_reaper_and_completes_once()
    {
        var session = await app.CreateSessionAsync();
        var first = app.Provider.Requests.Count;
        app.Provider.Enqueue(Reply.Chunks("Working ", "on it").StallAfter(1));
        var posted = await app.PostMessageAsync(session.Id, "Take your time.");
        var stalled = await app.Provider.WaitForRequestAsync(first, Deadline);
        await stalled.WaitForChunkSentAsync(0, Deadline);

        app.Provider.Enqueue(Reply.Text("Done."));
        var staleSince = DateTimeOffset.UtcNow;
        await LeaseDiesAsync(app.ConnectionString, posted.RunId);
        var end = await EndOrExplainAsync(session.Id, posted.RunId);
        Assert.True(end.Data is RunCompleted, string.Join("\n", (await app.EventsAsync(session.Id)).Select(e => e.Data.ToString())));
        var requeued = await app.WaitForEventAsync<RunRequeued>(session.Id, r => r.RunId == posted.RunId, Deadline);

        Assert.IsType<RunCompleted>(end.Data);
        Assert.Equal(1, ((RunRequeued)requeued.Data).Attempt);
        Assert.True(requeued.At - staleSince < TimeSpan.FromSeconds(5), "requeued within the lease timeout and a sweep");
        await stalled.WaitForDisconnectAsync(Deadline); // the node that lost its lease let go of the provider
        var events = await app.EventsAsync(session.Id);
        AssertNoStepTwice(events);
        Assert.Equal(["Done."], events.Select(e => e.Data).OfType<AgentMessageCompleted>().Select(m => m.Text));
    }

    private async Task<SessionEvent> EndOrExplainAsync(Guid sessionId, Guid runId)
    {
        try
        {
            return await app.WaitForRunEndAsync(sessionId, runId, Deadline);
        }
        catch (TimeoutException)
        {
            await using var connection = new NpgsqlConnection(app.ConnectionString);
            await connection.OpenAsync();
            await using var read = new NpgsqlCommand("select coalesce(string_agg(data::text, ' | '), 'no lease') from sessions.mt_doc_runlease", connection);
            var leases = await read.ExecuteScalarAsync();
            throw new TimeoutException(
                $"Run {runId} did not end. Lease: {leases}. Log:\n" + string.Join("\n", (await app.EventsAsync(sessionId)).Select(e => e.Type + " " + e.At.ToString("HH:mm:ss.fff"))));
        }
    }

    /// <summary>The node holding the run "dies": its lease names another node and has not been renewed for ages.</summary>
    internal static async Task LeaseDiesAsync(string connectionString, Guid runId)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var read = new NpgsqlCommand("select data::text from sessions.mt_doc_runlease where id = $1", connection) { Parameters = { new() { Value = runId } } };
        var lease = JsonNode.Parse((string)(await read.ExecuteScalarAsync())!)!.AsObject();
        foreach (var property in lease.Select(p => p.Key).ToList())
        {
            if (property.Equals("NodeId", StringComparison.OrdinalIgnoreCase))
            {
                lease[property] = "a-node-that-died";
            }
            else if (property.Equals("HeartbeatAt", StringComparison.OrdinalIgnoreCase))
            {
                lease[property] = "2000-01-01T00:00:00+00:00";
            }
        }

        await using var write = new NpgsqlCommand("update sessions.mt_doc_runlease set data = $2::jsonb where id = $1", connection)
        {
            Parameters = { new() { Value = runId }, new() { Value = lease.ToJsonString() } },
        };
        Assert.Equal(1, await write.ExecuteNonQueryAsync());
    }

    internal static void AssertNoStepTwice(IReadOnlyList<SessionEvent> events)
    {
        Assert.Equal(events.Select(e => e.Version), Enumerable.Range(1, events.Count).Select(v => (long)v));
        var messages = events.Select(e => e.Data).OfType<AgentMessageCompleted>().Select(m => m.MessageId).ToList();
        Assert.Equal(messages.Count, messages.Distinct().Count());
        var results = events.Select(e => e.Data).OfType<ToolCallCompleted>().Select(r => r.CallId).ToList();
        Assert.Equal(results.Count, results.Distinct().Count());
        Assert.Single(events, e => e.Data is RunCompleted or RunFailed or RunCancelled);
    }
}

/// <summary>A Host that never queues a lost run again: it fails as orphaned at once.</summary>
public sealed class NoRetryApp : ConclaveApp
{
    public NoRetryApp() => ExtraSettings["Conclave:Runs:MaxAttempts"] = "0";
}

public sealed class OrphanTests(NoRetryApp app) : IClassFixture<NoRetryApp>
{
    [Fact]
    public async Task A_run_whose_node_died_more_often_than_allowed_fails_as_orphaned_and_is_not_left_running()
    {
        var session = await app.CreateSessionAsync();
        app.Provider.Enqueue(Reply.Chunks("Working ", "on it").StallAfter(1));
        var posted = await app.PostMessageAsync(session.Id, "Take your time.");
        var stalled = await app.Provider.WaitForRequestAsync(0, TimeSpan.FromSeconds(30));
        await stalled.WaitForChunkSentAsync(0, TimeSpan.FromSeconds(30));

        await ResilienceTests.LeaseDiesAsync(app.ConnectionString, posted.RunId);
        var end = await app.WaitForRunEndAsync(session.Id, posted.RunId, TimeSpan.FromSeconds(30));

        var failed = Assert.IsType<RunFailed>(end.Data);
        Assert.True(failed.Orphaned);
        Assert.Contains("orphaned", failed.Reason);
        var summary = await app.Service<ISessions>().FindAsync(session.OwnerId, session.Id, CancellationToken.None);
        Assert.Equal(RunStatus.Failed, summary!.LastRunStatus);
        ResilienceTests.AssertNoStepTwice(await app.EventsAsync(session.Id));
    }
}

/// <summary>A Host whose default provider has prices: $1,000 per million tokens makes every token count.</summary>
public sealed class PricedApp : ConclaveApp
{
    public PricedApp()
    {
        ExtraSettings["Conclave:Models:Default:InputPricePerMillion"] = "1000";
        ExtraSettings["Conclave:Models:Default:OutputPricePerMillion"] = "1000";
    }
}

public sealed class CostTests(PricedApp app) : IClassFixture<PricedApp>
{
    [Fact]
    public async Task A_run_stops_at_its_cost_limit_and_costs_add_up_per_message_and_session()
    {
        var session = await app.CreateSessionAsync();
        await app.Service<ISessions>().ChooseTeamAsync(
            session.OwnerId, session.Id, new Guid("00000000-0000-7000-8000-0000000000c3"), "Planner-Coder-Critic", CancellationToken.None);
        app.Provider.Enqueue(Reply.Text("Plan.").WithUsage(30, 20), Reply.Text("Code.").WithUsage(30, 20), Reply.Text("never"));

        var posted = await app.Service<ISessions>().PostMessageAsync(
            session.OwnerId, session.Id, "Spend carefully", new RunOverrides(MaxCost: 0.1m), CancellationToken.None);
        var end = await app.WaitForRunEndAsync(session.Id, posted.RunId, TimeSpan.FromSeconds(30));

        var completed = Assert.IsType<RunCompleted>(end.Data);
        Assert.Equal("Reached the cost limit: $0.1 spent of $0.1.", completed.Reason);
        var messages = (await app.EventsAsync(session.Id)).Select(e => e.Data).OfType<AgentMessageCompleted>().ToList();
        Assert.Equal([0.05m, 0.05m], messages.Select(m => m.Cost));
        var summary = await app.Service<ISessions>().FindAsync(session.OwnerId, session.Id, CancellationToken.None);
        Assert.Equal(0.1m, summary!.Cost);
        Assert.Equal(0, summary.UnpricedMessages);
        Assert.Equal(1, app.Provider.QueuedReplies);
        app.Provider.Clear();

        // The run's and the user's read models add up the same.
        var runs = await app.Client.GetFromJsonAsync<List<RunSummary>>($"/api/v1/sessions/{session.Id}/runs", Json.Options);
        var run = Assert.Single(runs!);
        Assert.Equal((posted.RunId, RunStatus.Completed, 2, 0.1m, 100L), (run.Id, run.Status, run.Messages, run.Cost, run.PromptTokens + run.CompletionTokens));
        Assert.Equal(completed.Reason, run.Reason);
        Assert.Equal("Planner-Coder-Critic", run.Team);
        var usage = await app.Client.GetFromJsonAsync<UsageTotals>("/api/v1/usage", Json.Options);
        Assert.Equal((1, 0.1m, 100L, 0), (usage!.Runs, usage.Cost, usage.TotalTokens, usage.UnpricedCalls));
        var future = await app.Client.GetFromJsonAsync<UsageTotals>($"/api/v1/usage?since={Uri.EscapeDataString(DateTimeOffset.UtcNow.AddMinutes(5).ToString("O"))}", Json.Options);
        Assert.Equal(0, future!.Runs);
    }
}

public sealed class UnpricedCostLimitTests(ConclaveApp app) : IClassFixture<ConclaveApp>
{
    [Fact]
    public async Task A_cost_limit_on_a_provider_without_prices_refuses_the_run_instead_of_pretending_it_is_free()
    {
        var session = await app.CreateSessionAsync();
        var posted = await app.Service<ISessions>().PostMessageAsync(
            session.OwnerId, session.Id, "Spend carefully", new RunOverrides(MaxCost: 1m), CancellationToken.None);
        var end = await app.WaitForRunEndAsync(session.Id, posted.RunId, TimeSpan.FromSeconds(30));

        var failed = Assert.IsType<RunFailed>(end.Data);
        Assert.Contains("has no prices", failed.Reason);
        Assert.Empty(app.Provider.Requests);
    }
}
