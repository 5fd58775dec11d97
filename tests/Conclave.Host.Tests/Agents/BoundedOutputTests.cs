using Conclave.Agents.Runs;
using Conclave.Sessions.Contracts;
using Conclave.Testing;
using Conclave.Testing.Host;
using Microsoft.Extensions.Options;

namespace Conclave.Host.Tests.Agents;

/// <summary>
/// A provider is outside input: a 16 MiB answer, oversized tool arguments or one huge streamed event
/// never become a buffer of that size. The answer is cut at the cap with a note (and the run goes on
/// normally: what came before the cap is the agent's answer), arguments over the cap get a
/// correction, an event over what the Host buffers fails the call.
/// </summary>
public sealed class BoundedOutputTests(ConclaveApp app) : IClassFixture<ConclaveApp>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private const int ChunkChars = 4096;
    private const int SixteenMiB = 16 * 1024 * 1024;

    private ModelOutputOptions Caps => app.Service<IOptions<ModelOutputOptions>>().Value;

    [Fact]
    public async Task A_16_MiB_answer_is_stored_cut_at_the_cap_with_a_note_its_stream_aborted_and_the_run_ends_normally()
    {
        var cap = Caps.MaxAnswerChars;
        // The server may send only what the test releases: enough to pass the cap, and far from 16 MiB.
        // Had the Host read on to the end instead of aborting at the cap, it would wait here for ever.
        var released = cap / ChunkChars + 16;
        var gate = new ChunkGate();
        app.Provider.Enqueue(Reply.Chunks(Enumerable.Repeat(new string('a', ChunkChars), SixteenMiB / ChunkChars).ToArray()).Gated(gate));
        var session = await app.CreateSessionAsync();
        using var watching = new CancellationTokenSource(Deadline);
        await using var feed = app.Service<ISessionFeed>().SubscribeAsync(session.Id, 0, watching.Token).GetAsyncEnumerator();
        Assert.True(await feed.MoveNextAsync()); // SessionStarted: subscribed before anything is streamed
        var index = app.Provider.Requests.Count;

        var posted = await app.PostMessageAsync(session.Id, "Write me sixteen mebibytes.");
        gate.Release(released);
        long relayed = 0;
        AgentMessageCompleted? message = null;
        while (message is null && await feed.MoveNextAsync())
        {
            switch (feed.Current)
            {
                case FeedDelta delta:
                    relayed += delta.Text.Length;
                    break;
                case FeedEvent { Event.Data: AgentMessageCompleted completed }:
                    message = completed;
                    break;
            }
        }

        var end = await app.WaitForRunEndAsync(session.Id, posted.RunId, Deadline);
        Assert.IsType<RunCompleted>(end.Data);
        Assert.NotNull(message);
        var note = $"\n\n[answer cut at {cap:N0} characters]";
        Assert.EndsWith(note, message.Text);
        Assert.Equal(new string('a', cap), message.Text[..^note.Length]);
        Assert.True(message.Usage.Estimated, "a stream aborted at the cap has no reported usage");
        Assert.Equal(cap, relayed); // the live deltas stop at the cap too
        var request = app.Provider.Requests[index];
        await request.WaitForDisconnectAsync(Deadline);
        Assert.True(request.ChunkSentAt.Count <= released, $"{request.ChunkSentAt.Count} chunks sent");
        Assert.True(request.BytesSent < 2 * cap, $"the provider got {request.BytesSent:N0} bytes out before the Host hung up");
    }

    [Fact]
    public async Task A_tool_call_with_oversized_arguments_gets_a_correction_naming_the_limit_and_only_a_preview_is_stored()
    {
        var cap = Caps.MaxToolArgumentChars;
        var arguments = $$"""{"code": "{{new string('x', cap + 40_000)}}"}""";
        app.Provider.Enqueue(Reply.ToolCall("run_python", arguments).InChunks(30), Reply.Text("I will send less."));
        var session = await app.CreateSessionAsync();
        var first = app.Provider.Requests.Count;

        var posted = await app.PostMessageAsync(session.Id, "Run this huge script.");
        var end = await app.WaitForRunEndAsync(session.Id, posted.RunId, Deadline);

        Assert.IsType<RunCompleted>(end.Data);
        var events = (await app.EventsAsync(session.Id)).Select(e => e.Data).ToList();
        var requested = Assert.Single(events.OfType<ToolCallRequested>());
        Assert.True(requested.ArgumentsCut);
        Assert.True(requested.Arguments.Length <= 1_001, $"{requested.Arguments.Length:N0} characters of arguments stored");
        Assert.StartsWith("""{"code": "xxx""", requested.Arguments);
        var result = Assert.Single(events.OfType<ToolCallCompleted>());
        Assert.Equal(ToolOutcome.Rejected, result.Outcome);
        Assert.Contains($"longer than the limit of {cap:N0} characters", result.Output);
        // The correction reached the model as the tool's answer; nothing ran in a sandbox.
        Assert.Contains(app.Provider.Requests[first + 1].Messages, m => m.Role == "tool" && m.Content!.Contains("longer than the limit"));
    }

    [Fact]
    public async Task One_16_MiB_streamed_event_fails_the_run_with_a_reason_instead_of_being_buffered()
    {
        app.Provider.Enqueue(Reply.Chunks(new string('b', SixteenMiB)));
        var session = await app.CreateSessionAsync();

        var posted = await app.PostMessageAsync(session.Id, "One piece, please.");
        var end = await app.WaitForRunEndAsync(session.Id, posted.RunId, Deadline);

        var failed = Assert.IsType<RunFailed>(end.Data);
        Assert.Contains($"a single streamed event larger than {Caps.MaxEventBytes:N0} bytes", failed.Reason);
        Assert.DoesNotContain((await app.EventsAsync(session.Id)).Select(e => e.Data), e => e is AgentMessageCompleted);
    }
}
