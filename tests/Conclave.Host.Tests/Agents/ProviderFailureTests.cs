using Conclave.Sessions.Contracts;
using Conclave.Testing;
using Conclave.Testing.Host;

namespace Conclave.Host.Tests.Agents;

/// <summary>A provider that fails ends the run with a reason the user can act on; nothing stays running.</summary>
public sealed class ProviderFailureTests(ConclaveApp app) : IClassFixture<ConclaveApp>
{
    [Fact]
    public async Task A_rejected_key_fails_the_run_saying_which_provider_key_to_check()
    {
        var failed = await RunAgainstAsync(Reply.Error(401, "Invalid API key"));

        Assert.Contains("rejected the API key", failed.Reason);
        Assert.Contains("127.0.0.1", failed.Reason);
        Assert.DoesNotContain(ConclaveApp.ProviderKey, failed.Reason);
    }

    [Fact]
    public async Task A_rate_limit_is_retried_after_the_delay_the_provider_asks_for()
    {
        var session = await app.CreateSessionAsync();
        app.Provider.Enqueue(Reply.Error(429).RetryAfter(TimeSpan.FromMilliseconds(300)), Reply.Text("after the wait"));
        var before = app.Provider.Requests.Count;

        var posted = await app.PostMessageAsync(session.Id, "hello");
        var end = await app.WaitForRunEndAsync(session.Id, posted.RunId);

        Assert.IsType<RunCompleted>(end.Data);
        var requests = app.Provider.Requests.Skip(before).ToList();
        Assert.Equal(2, requests.Count);
        var waited = TimeSpan.FromSeconds((requests[1].ReceivedAt - requests[0].ReceivedAt) / (double)System.Diagnostics.Stopwatch.Frequency);
        Assert.True(waited >= TimeSpan.FromMilliseconds(250), $"retried after {waited.TotalMilliseconds} ms");
    }

    [Fact]
    public async Task A_server_error_that_persists_fails_the_run()
    {
        var failed = await RunAgainstAsync(Reply.Error(500), Reply.Error(500));

        Assert.Contains("failed (500)", failed.Reason);
    }

    [Fact]
    public async Task A_stream_cut_mid_answer_fails_the_run_and_drops_the_partial_text()
    {
        var failed = await RunAgainstAsync(Reply.Text("this answer never ends").InChunks(6).CutAfter(2));

        Assert.Contains("cut", failed.Reason);
    }

    private async Task<RunFailed> RunAgainstAsync(params Reply[] replies)
    {
        var session = await app.CreateSessionAsync();
        app.Provider.Enqueue(replies);
        var posted = await app.PostMessageAsync(session.Id, "hello");

        var end = await app.WaitForRunEndAsync(session.Id, posted.RunId);

        var events = await app.EventsAsync(session.Id);
        Assert.DoesNotContain(events, e => e.Data is AgentMessageCompleted);
        var summary = await app.Service<ISessions>().FindAsync("local", session.Id, CancellationToken.None);
        Assert.Equal(RunStatus.Failed, summary!.LastRunStatus);
        return Assert.IsType<RunFailed>(end.Data);
    }
}
