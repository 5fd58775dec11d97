using System.Diagnostics;
using System.Net;
using Conclave.Sessions.Contracts;
using Conclave.Testing;
using Conclave.Testing.Host;

namespace Conclave.Host.Tests.Agents;

/// <summary>Tests that time something: they run alone, after the parallel ones, so other test hosts do not share the 2 cores.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TimingCollection
{
    public const string Name = "Timing";
}

/// <summary>Stop halts a run at once and saves tokens: the provider's stream is closed.</summary>
[Collection(TimingCollection.Name)]
public sealed class StopRunTests(ConclaveApp app) : IClassFixture<ConclaveApp>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Stopping_a_streaming_run_records_RunCancelled_within_a_second_and_closes_the_provider_stream()
    {
        var session = await app.CreateSessionAsync();
        app.Provider.Enqueue(Reply.Chunks("I will ", "go on ", "forever").StallAfter(1));
        var index = app.Provider.Requests.Count;
        var posted = await app.PostMessageAsync(session.Id, "loop forever");
        var request = await app.Provider.WaitForRequestAsync(index, Deadline);
        await request.WaitForChunkSentAsync(0, Deadline);

        var clicked = Stopwatch.GetTimestamp();
        var response = await app.Client.PostAsync($"/api/v1/sessions/{session.Id}/runs/{posted.RunId}/cancel", null);
        var end = await app.WaitForRunEndAsync(session.Id, posted.RunId);
        var latency = Stopwatch.GetElapsedTime(clicked);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var cancelled = Assert.IsType<RunCancelled>(end.Data);
        Assert.Equal("Stopped by the user.", cancelled.Reason);
        Assert.True(latency < TimeSpan.FromSeconds(1), $"RunCancelled came {latency.TotalMilliseconds:F0} ms after the stop");
        await request.WaitForDisconnectAsync(Deadline);
        var events = await app.EventsAsync(session.Id);
        Assert.Equal("RunCancelled", events[^1].Type);
        Assert.DoesNotContain(events, e => e.Data is AgentMessageCompleted);
        var summary = await app.Service<ISessions>().FindAsync("local", session.Id, CancellationToken.None);
        Assert.Equal(RunStatus.Cancelled, summary!.LastRunStatus);
    }

    [Fact]
    public async Task Stopping_a_finished_run_is_a_conflict_and_appends_nothing()
    {
        var session = await app.CreateSessionAsync();
        app.Provider.Enqueue(Reply.Text("done"));
        var posted = await app.PostMessageAsync(session.Id, "quick one");
        await app.WaitForRunEndAsync(session.Id, posted.RunId);
        var before = (await app.EventsAsync(session.Id)).Count;

        var response = await app.Client.PostAsync($"/api/v1/sessions/{session.Id}/runs/{posted.RunId}/cancel", null);

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal(before, (await app.EventsAsync(session.Id)).Count);
    }

    [Fact]
    public async Task Stopping_an_unknown_run_or_another_owners_run_is_not_found()
    {
        var mine = await app.CreateSessionAsync();
        var theirs = await app.Service<ISessions>().CreateAsync("someone-else", "theirs", CancellationToken.None);
        var theirRun = await app.Service<ISessions>().PostMessageAsync("someone-else", theirs.Id, "hello", CancellationToken.None);

        var unknownRun = await app.Client.PostAsync($"/api/v1/sessions/{mine.Id}/runs/{Guid.NewGuid()}/cancel", null);
        var foreign = await app.Client.PostAsync($"/api/v1/sessions/{theirs.Id}/runs/{theirRun.RunId}/cancel", null);

        Assert.Equal(HttpStatusCode.NotFound, unknownRun.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);
        await app.WaitForRunEndAsync(theirs.Id, theirRun.RunId);
        Assert.DoesNotContain(await app.EventsAsync(theirs.Id), e => e.Data is RunCancelled);
    }
}
