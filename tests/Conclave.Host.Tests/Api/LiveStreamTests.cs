using System.Net.ServerSentEvents;
using System.Text.Json;
using Conclave.Sessions.Contracts;
using Conclave.Testing;
using Conclave.Testing.Host;

namespace Conclave.Host.Tests.Api;

public sealed class LiveStreamTests(ConclaveApp app) : IClassFixture<ConclaveApp>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task A_client_resuming_from_a_version_receives_exactly_the_later_events_then_live_ones()
    {
        var session = await app.CreateSessionAsync();
        app.Provider.Enqueue(Reply.Text("one"), Reply.Text("two"));
        var first = await app.PostMessageAsync(session.Id, "first");
        await app.WaitForRunEndAsync(session.Id, first.RunId);
        using var cts = new CancellationTokenSource(Deadline);

        var seen = new List<long>();
        await using var stream = SseClient.ReadAsync(app.Client, session.Id, lastEventId: 3, cts.Token).GetAsyncEnumerator(cts.Token);
        var posted = false;
        while (await stream.MoveNextAsync())
        {
            var item = stream.Current;
            if (item.EventType != "log")
            {
                continue;
            }

            seen.Add(long.Parse(item.EventId!));
            if (seen[^1] == 6 && !posted)
            {
                posted = true;
                await app.PostMessageAsync(session.Id, "second");
            }

            if (JsonDocument.Parse(item.Data).RootElement.GetProperty("type").GetString() == "RunCompleted" && seen[^1] > 6)
            {
                break;
            }
        }

        Assert.Equal(Enumerable.Range(4, seen.Count).Select(v => (long)v), seen);
        Assert.Equal(11, seen[^1]); // the second run: message, queued, started, answer, completed
    }

    [Fact]
    public async Task Tokens_stream_live_and_a_client_joining_mid_message_first_gets_the_text_so_far()
    {
        var session = await app.CreateSessionAsync();
        app.Provider.Enqueue(Reply.Chunks("Hel", "lo ", "wor", "ld").Gated());
        var index = app.Provider.Requests.Count;
        await app.PostMessageAsync(session.Id, "greet me");
        await app.Provider.WaitForRequestAsync(index, Deadline);
        app.Provider.ReleaseChunk(2);
        await WaitForStreamedTextAsync(session.Id, "Hello ");
        using var cts = new CancellationTokenSource(Deadline);

        var items = new List<SseItem<string>>();
        await foreach (var item in SseClient.ReadAsync(app.Client, session.Id, lastEventId: null, cts.Token))
        {
            items.Add(item);
            if (item.EventType == "partial")
            {
                app.Provider.ReleaseChunk(2);
            }

            if (item.EventType == "log" && item.Data.Contains("\"RunCompleted\""))
            {
                break;
            }
        }

        var partial = JsonDocument.Parse(items.Single(i => i.EventType == "partial").Data).RootElement;
        Assert.Equal("Hello ", partial.GetProperty("text").GetString());
        var deltas = items.Where(i => i.EventType == "delta")
            .Select(i => JsonDocument.Parse(i.Data).RootElement.GetProperty("text").GetString())
            .ToList();
        Assert.Equal(["wor", "ld"], deltas);
        var completed = items.Single(i => i.EventType == "log" && i.Data.Contains("AgentMessageCompleted"));
        Assert.Contains("Hello world", completed.Data);
        Assert.True(items.FindIndex(i => i.EventType == "partial") < items.FindIndex(i => i.EventType == "delta"));
    }

    /// <summary>Another live subscriber (in-process) sees the deltas: the hub holds that much text.</summary>
    private async Task WaitForStreamedTextAsync(Guid sessionId, string expected)
    {
        using var cts = new CancellationTokenSource(Deadline);
        var text = "";
        await foreach (var item in app.Service<ISessionFeed>().SubscribeAsync(sessionId, 0, cts.Token))
        {
            text += item switch
            {
                FeedPartial p => p.Text,
                FeedDelta d => d.Text,
                _ => "",
            };
            if (text == expected)
            {
                return;
            }
        }
    }

    [Fact]
    public async Task Closing_the_stream_mid_run_does_not_stop_or_slow_the_run()
    {
        var session = await app.CreateSessionAsync();
        app.Provider.Enqueue(Reply.Chunks("still ", "running").Gated());
        var posted = await app.PostMessageAsync(session.Id, "keep going");
        using (var cts = new CancellationTokenSource(Deadline))
        {
            await foreach (var item in SseClient.ReadAsync(app.Client, session.Id, null, cts.Token))
            {
                if (item.EventType == "log" && item.Data.Contains("RunStarted"))
                {
                    break; // the client goes away: tab closed, network dropped
                }
            }
        }

        app.Provider.ReleaseChunk(2);
        await app.WaitForRunEndAsync(session.Id, posted.RunId);

        var answer = (await app.EventsAsync(session.Id)).Select(e => e.Data).OfType<AgentMessageCompleted>().Single();
        Assert.Equal("still running", answer.Text);
    }
}
