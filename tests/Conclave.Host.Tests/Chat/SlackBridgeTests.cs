using System.Diagnostics;
using Conclave.Sessions.Contracts;
using Conclave.Testing;

namespace Conclave.Host.Tests.Chat;

/// <summary>Slack over Socket Mode: a mention in a bound channel runs the team and the answer streams into the thread.</summary>
[Collection(Agents.TimingCollection.Name)]
public sealed class SlackBridgeTests(SlackApp app) : IClassFixture<SlackApp>
{
    private static readonly TimeSpan Deadline = SlackApp.Deadline;

    [Fact]
    public async Task A_mention_starts_a_run_whose_answer_streams_as_throttled_updates_and_ends_in_mrkdwn_with_usage()
    {
        await app.LinkAsync("U0STREAM", "slack-stream");
        app.Provider.Enqueue(Reply.Text("Here is **bold** and a [link](https://example.com/docs) and `code` with more words to stream slowly")
            .WithChunkDelay(TimeSpan.FromMilliseconds(120)).WithUsage(31, 17));
        var mention = app.Slack.Mention(SlackApp.Channel, "U0STREAM", "explain things");
        var thread = ScriptedSlack.ThreadOf(mention);

        await app.Slack.SendEventAsync(mention, Deadline);
        var answer = await FinalAnswerAsync(thread);

        Assert.Equal(
            "Here is *bold* and a <https://example.com/docs|link> and `code` with more words to stream slowly",
            answer.Text.Split("\n\n")[0]);
        Assert.Matches(@"^_31 in · 17 out tokens · cost unknown · \d+\.\d s_$", answer.Text.Split("\n\n")[^1]);
        var versions = answer.Versions;
        Assert.Equal("_Working…_", versions[0].Text);
        var streamed = versions.Skip(1).SkipLast(1).ToList();
        Assert.True(streamed.Count >= 2, $"expected partial edits while streaming, got {streamed.Count}: {string.Join(" | ", versions.Select(v => v.Text))}");
        Assert.All(streamed, v => Assert.StartsWith("Here is", v.Text));
        Assert.True(streamed[0].Text.Length < streamed[^1].Text.Length);
        for (var i = 1; i < versions.Count; i++)
        {
            var gap = Stopwatch.GetElapsedTime(versions[i - 1].At, versions[i].At);
            Assert.True(gap >= SlackApp.EditInterval - TimeSpan.FromMilliseconds(20), $"edit {i} came {gap.TotalMilliseconds:F0} ms after the previous one");
        }

        Assert.Null(answer.Blocks is { } blocks && blocks.AsArray().Count > 0 ? blocks : null);
    }

    [Fact]
    public async Task The_next_message_in_the_thread_continues_the_same_session()
    {
        var owner = await app.LinkAsync("U0THREAD", "slack-thread");
        app.Provider.Enqueue(Reply.Text("first answer"), Reply.Text("second answer"));
        var mention = app.Slack.Mention(SlackApp.Channel, "U0THREAD", "first question");
        var thread = ScriptedSlack.ThreadOf(mention);
        await app.Slack.SendEventAsync(mention, Deadline);
        await FinalAnswerAsync(thread);

        await app.Slack.SendEventAsync(app.Slack.ThreadMessage(SlackApp.Channel, "U0THREAD", "second question", thread), Deadline);
        await Eventually.Until(
            () => app.Slack.Thread(SlackApp.Channel, thread).Count(p => p.Text.StartsWith("second answer", StringComparison.Ordinal)) == 1,
            Deadline,
            "the follow-up was answered in the thread");

        var sessions = await app.Service<ISessions>().ListAsync(owner, CancellationToken.None);
        var session = Assert.Single(sessions);
        var messages = (await app.EventsAsync(session.Id)).Select(e => e.Data).OfType<UserMessagePosted>().Select(m => m.Text).ToList();
        Assert.Equal(["first question", "second question"], messages);
        Assert.Equal(2, (await app.Service<ISessions>().RunsAsync(owner, session.Id, CancellationToken.None)).Count);
    }

    [Fact]
    public async Task A_run_python_plot_is_uploaded_to_the_thread()
    {
        await app.LinkAsync("U0PLOT", "slack-plot");
        app.Provider.Enqueue(
            Reply.ToolCall("run_python", """{"code": "import matplotlib.pyplot as plt\nplt.plot([1, 4, 9])\nplt.title('squares')\nplt.show()"}"""),
            Reply.Text("The plot shows the squares."));
        var mention = app.Slack.Mention(SlackApp.Channel, "U0PLOT", "plot some squares");
        var thread = ScriptedSlack.ThreadOf(mention);

        await app.Slack.SendEventAsync(mention, Deadline);
        var answer = await FinalAnswerAsync(thread, TimeSpan.FromSeconds(90));
        await Eventually.Until(() => app.Slack.Uploads.Any(u => u.ThreadTs == thread), Deadline, "the plot was uploaded");

        Assert.Contains("› `run_python` done (", answer.Text);
        Assert.Contains("The plot shows the squares.", answer.Text);
        var upload = Assert.Single(app.Slack.Uploads, u => u.ThreadTs == thread);
        Assert.Equal(SlackApp.Channel, upload.Channel);
        Assert.EndsWith(".png", upload.Title);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], upload.Content.Take(4).ToArray());
    }

    [Fact]
    public async Task A_429_with_Retry_After_delays_the_next_edit_and_the_final_text_is_still_right()
    {
        await app.LinkAsync("U0LIMIT", "slack-limit");
        app.Provider.Enqueue(Reply.Text("one two three four five six seven eight nine ten eleven twelve")
            .WithChunkDelay(TimeSpan.FromMilliseconds(100)));
        app.Slack.RateLimitNextUpdate(TimeSpan.FromSeconds(1));
        var mention = app.Slack.Mention(SlackApp.Channel, "U0LIMIT", "count");
        var thread = ScriptedSlack.ThreadOf(mention);

        await app.Slack.SendEventAsync(mention, Deadline);
        var answer = await FinalAnswerAsync(thread);

        Assert.StartsWith("one two three four five six seven eight nine ten eleven twelve\n\n_", answer.Text);
        var updates = app.Slack.Calls.Where(c => c.Method == "chat.update" && c.Arguments["ts"]?.GetValue<string>() == answer.Ts).ToList();
        var limited = updates.FindIndex(c => c.RateLimited);
        Assert.True(limited >= 0, "the scripted Slack answered one update with 429");
        var waited = Stopwatch.GetElapsedTime(updates[limited].At, updates[limited + 1].At);
        Assert.True(waited >= TimeSpan.FromMilliseconds(980), $"the next edit came {waited.TotalMilliseconds:F0} ms after the 429 (Retry-After: 1 s)");
    }

    [Fact]
    public async Task The_stop_button_stops_the_run_within_a_second()
    {
        var owner = await app.LinkAsync("U0STOP", "slack-stop");
        app.Provider.Enqueue(Reply.Chunks("I will ", "go on ", "forever").StallAfter(1));
        var mention = app.Slack.Mention(SlackApp.Channel, "U0STOP", "loop forever");
        var thread = ScriptedSlack.ThreadOf(mention);
        await app.Slack.SendEventAsync(mention, Deadline);
        await Eventually.Until(
            () => app.Slack.Thread(SlackApp.Channel, thread).Any(p => p.Text.StartsWith("I will", StringComparison.Ordinal)),
            Deadline,
            "the first words are shown");
        var post = app.Slack.Thread(SlackApp.Channel, thread).Single();
        var session = Assert.Single(await app.Service<ISessions>().ListAsync(owner, CancellationToken.None));
        var run = Assert.Single(await app.Service<ISessions>().RunsAsync(owner, session.Id, CancellationToken.None));

        var clicked = Stopwatch.GetTimestamp();
        await app.Slack.ClickStopAsync(post, "U0STOP", Deadline);
        var end = await app.WaitForRunEndAsync(session.Id, run.Id);
        var latency = Stopwatch.GetElapsedTime(clicked);

        Assert.IsType<RunCancelled>(end.Data);
        Assert.True(latency < TimeSpan.FromSeconds(1), $"RunCancelled came {latency.TotalMilliseconds:F0} ms after the click");
        await Eventually.Until(() => post.Text.Contains("_Stopped: ", StringComparison.Ordinal), Deadline, "the answer says it was stopped");
    }

    [Fact]
    public async Task Only_the_runs_owner_can_stop_it()
    {
        var owner = await app.LinkAsync("U0OWNER", "slack-owner");
        app.Provider.Enqueue(Reply.Chunks("slow ", "answer ", "here").Gated());
        var mention = app.Slack.Mention(SlackApp.Channel, "U0OWNER", "go");
        var thread = ScriptedSlack.ThreadOf(mention);
        await app.Slack.SendEventAsync(mention, Deadline);
        await Eventually.Until(() => app.Slack.Thread(SlackApp.Channel, thread).Count == 1, Deadline, "the placeholder is posted");
        var post = app.Slack.Thread(SlackApp.Channel, thread).Single();
        var before = app.Slack.Ephemerals.Count;

        await app.Slack.ClickStopAsync(post, "U0STRANGER", Deadline);
        await Eventually.Until(() => app.Slack.Ephemerals.Count > before, Deadline, "the stranger is told");
        app.Provider.ReleaseChunk(3);
        var answer = await FinalAnswerAsync(thread);

        Assert.StartsWith("slow answer here", answer.Text);
        Assert.Contains(app.Slack.Ephemerals, e => e.User == "U0STRANGER" && e.Text.StartsWith("Only the person who started this run", StringComparison.Ordinal));
        Assert.IsType<RunCompleted>((await app.EventsAsync(Assert.Single(await app.Service<ISessions>().ListAsync(owner, CancellationToken.None)).Id))[^1].Data);
    }

    [Fact]
    public async Task Slack_asking_to_reconnect_gets_a_new_connection_that_takes_events()
    {
        await app.LinkAsync("U0RECON", "slack-reconnect");
        var connections = app.Slack.Connections;
        await app.Slack.SendDisconnectAsync();
        await app.Slack.WaitForConnectionAsync(connections + 1, Deadline);
        app.Provider.Enqueue(Reply.Text("still here"));
        var mention = app.Slack.Mention(SlackApp.Channel, "U0RECON", "are you there");
        var thread = ScriptedSlack.ThreadOf(mention);

        await app.Slack.SendEventAsync(mention, Deadline);

        Assert.StartsWith("still here", (await FinalAnswerAsync(thread)).Text);
    }

    /// <summary>The bot's answer in the thread once its closing usage line is there.</summary>
    private async Task<Testing.SlackPost> FinalAnswerAsync(string thread, TimeSpan? timeout = null)
    {
        await Eventually.Until(
            () => app.Slack.Thread(SlackApp.Channel, thread).Any(p => p.Text.EndsWith(" s_", StringComparison.Ordinal)),
            timeout ?? Deadline,
            "the answer's closing line is posted");
        return app.Slack.Thread(SlackApp.Channel, thread).First();
    }
}
