using Conclave.Sessions.Contracts;
using Conclave.Testing;

namespace Conclave.Host.Tests.Chat;

/// <summary>A Host restart resumes the Slack connection and the answers owed, each posted once.</summary>
public sealed class SlackRestartTests(SlackApp app) : IClassFixture<SlackApp>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task An_answer_interrupted_by_a_restart_is_finished_in_its_message_once_and_not_again_after_the_next_restart()
    {
        var owner = await app.LinkAsync("U0RESTART", "slack-restart");
        app.Provider.Enqueue(Reply.Chunks("before ", "the restart").StallAfter(1));
        var mention = app.Slack.Mention(SlackApp.Channel, "U0RESTART", "survive a restart");
        var thread = ScriptedSlack.ThreadOf(mention);
        await app.Slack.SendEventAsync(mention, Deadline);
        await Eventually.Until(
            () => app.Slack.Thread(SlackApp.Channel, thread).Any(p => p.Text.StartsWith("before", StringComparison.Ordinal)),
            Deadline,
            "the answer streams before the restart");

        app.Provider.RespondWith(Reply.Text("after the restart"));
        var connections = app.Slack.Connections;
        await app.RestartAsync();
        await app.Slack.WaitForConnectionAsync(connections + 1, Deadline);
        await Eventually.Until(
            () => app.Slack.Thread(SlackApp.Channel, thread).Any(p => p.Text.EndsWith(" s_", StringComparison.Ordinal)),
            Deadline,
            "the answer is finished after the restart");

        var session = Assert.Single(await app.Service<ISessions>().ListAsync(owner, CancellationToken.None));
        var run = Assert.Single(await app.Service<ISessions>().RunsAsync(owner, session.Id, CancellationToken.None));
        Assert.Equal(RunStatus.Completed, run.Status);
        var post = Assert.Single(app.Slack.Thread(SlackApp.Channel, thread));
        Assert.Contains("after the restart", post.Text);
        var edits = post.Versions.Count;

        await app.RestartAsync();
        await app.Slack.WaitForConnectionAsync(connections + 2, Deadline);
        app.Provider.Enqueue(Reply.Text("a later answer"));
        var later = app.Slack.Mention(SlackApp.Channel, "U0RESTART", "still there?");
        await app.Slack.SendEventAsync(later, Deadline);
        await Eventually.Until(
            () => app.Slack.Thread(SlackApp.Channel, ScriptedSlack.ThreadOf(later)).Any(p => p.Text.EndsWith(" s_", StringComparison.Ordinal)),
            Deadline,
            "a new mention after the second restart is answered");

        Assert.Single(app.Slack.Thread(SlackApp.Channel, thread));
        Assert.Equal(edits, post.Versions.Count);
    }
}
