using System.Diagnostics;
using OpenAI.Chat;
using Xunit;

namespace Conclave.Testing.Tests;

public sealed class InterruptionTests : ScriptedServerTest
{
    [Fact]
    public async Task A_cut_stream_throws_in_the_client_after_the_chunks_sent()
    {
        Server.Enqueue(Reply.Text("one two three four").CutAfter(2));
        var received = new List<string>();

        var error = await Record.ExceptionAsync(async () =>
        {
            await foreach (var update in Client().CompleteChatStreamingAsync([new UserChatMessage("hi")]))
            {
                received.AddRange(update.ContentUpdate.Select(part => part.Text));
            }
        });

        Assert.Equal(HttpRequestError.ResponseEnded, Assert.IsType<HttpIOException>(error).HttpRequestError);
        Assert.Equal(["one ", "two "], received);
        var request = await Server.WaitForRequestAsync(0, Deadline);
        Assert.Equal(RequestOutcome.CutByServer, await request.WaitUntilFinishedAsync(Deadline));
    }

    [Fact]
    public async Task A_stalled_stream_is_cancelled_by_the_client_and_the_server_sees_the_disconnect()
    {
        Server.Enqueue(Reply.Text("one two three").StallAfter(1));
        using var stop = new CancellationTokenSource();
        await using var updates = Client()
            .CompleteChatStreamingAsync([new UserChatMessage("hi")], cancellationToken: stop.Token)
            .GetAsyncEnumerator();
        Assert.True(await updates.MoveNextAsync());
        Assert.Equal("one ", updates.Current.ContentUpdate.Single().Text);

        // Cancelling while the read is pending, as a Stop does, makes HttpClient drop the connection at
        // once; disposing an unfinished response between reads would first try to drain it for up to 2 s.
        var next = updates.MoveNextAsync();
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await next);

        var disconnected = await Server.WaitForDisconnectAsync(Deadline);
        Assert.True(disconnected.ClientDisconnected);
        Assert.Single(disconnected.ChunkSentAt);
    }

    [Fact]
    public async Task Disposing_the_server_ends_a_stalled_stream_early()
    {
        Server.Enqueue(Reply.Text("one two").StallAfter(1));
        await using var updates = Client().CompleteChatStreamingAsync([new UserChatMessage("hi")]).GetAsyncEnumerator();
        Assert.True(await updates.MoveNextAsync());
        var next = updates.MoveNextAsync();

        await Server.DisposeAsync();

        var error = await Record.ExceptionAsync(async () => await next);
        Assert.Equal(HttpRequestError.ResponseEnded, Assert.IsType<HttpIOException>(error).HttpRequestError);
        Assert.Equal(RequestOutcome.AbandonedByServer, Server.Requests.Single().Outcome);
    }

    [Fact]
    public async Task Gated_chunks_are_sent_only_when_released()
    {
        Server.Enqueue(Reply.Text("one two three").Gated());
        await using var updates = Client().CompleteChatStreamingAsync([new UserChatMessage("hi")]).GetAsyncEnumerator();

        var first = updates.MoveNextAsync();
        var request = await Server.WaitForRequestAsync(0, Deadline);
        Assert.Empty(request.ChunkSentAt);
        Assert.False(first.IsCompleted);

        Server.ReleaseChunk();
        Assert.True(await first);
        var receivedAt = Stopwatch.GetTimestamp();

        Assert.Equal("one ", updates.Current.ContentUpdate.Single().Text);
        var sentAt = Assert.Single(Server.Gate.ChunkSentAt);
        Assert.Equal(sentAt, Assert.Single(request.ChunkSentAt));
        Assert.InRange(receivedAt - sentAt, 0, Stopwatch.Frequency * 10);

        var second = updates.MoveNextAsync();
        Assert.False(second.IsCompleted);
        Server.ReleaseChunk(2);
        var rest = new List<string>();
        for (var more = await second; more; more = await updates.MoveNextAsync())
        {
            rest.AddRange(updates.Current.ContentUpdate.Select(part => part.Text));
        }

        Assert.Equal(["two ", "three"], rest);
    }

    [Fact]
    public async Task A_gate_of_its_own_paces_only_its_reply()
    {
        var gate = new ChunkGate();
        Server.Enqueue(Reply.Chunks("x", "y").Gated(gate));
        var streaming = StreamAsync(Client(), "hi");

        gate.Release(2);
        var sent = await gate.WaitForChunkSentAsync(1, Deadline);

        Assert.Equal("xy", TextOf(await streaming));
        Assert.Equal(sent, gate.ChunkSentAt[1]);
        Assert.Empty(Server.Gate.ChunkSentAt);
    }
}
