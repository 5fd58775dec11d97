using Conclave.Chat.Contracts;
using Conclave.Testing;

namespace Conclave.Host.Tests.Chat;

/// <summary>Slack's tokens and signing secret reach Slack and no log line, even at Trace, and the admin sees hints only.</summary>
public sealed class SlackSecretsTests(TracedSlackApp app) : IClassFixture<TracedSlackApp>
{
    [Fact]
    public async Task Tokens_and_the_signing_secret_appear_in_no_log_line_and_only_as_hints()
    {
        var deadline = TimeSpan.FromSeconds(60);
        await app.LinkAsync("U0SECRET", "slack-secret");
        app.Provider.Enqueue(Reply.Text("a secretless answer"));
        var mention = app.Slack.Mention(SlackApp.Channel, "U0SECRET", "anything");
        await app.Slack.SendEventAsync(mention, deadline);
        await Eventually.Until(
            () => app.Slack.Thread(SlackApp.Channel, ScriptedSlack.ThreadOf(mention)).Any(p => p.Text.EndsWith(" s_", StringComparison.Ordinal)),
            deadline,
            "the answer is posted");
        using var slack = app.CreateAnonymousClient();
        await ScriptedSlack.PostSignedAsync(slack, $"/api/v1/chat/slack/{app.EventsConnectionId}/events", "{}", SlackApp.SigningSecret);
        var views = await app.Service<IChatConnections>().ListAsync(CancellationToken.None);

        Assert.Contains(app.Slack.Calls, c => c.Method == "chat.update");
        var lines = app.Logs.Lines.ToList();
        Assert.Contains(lines, l => l.StartsWith("Trace", StringComparison.Ordinal));
        foreach (var secret in new[] { app.Slack.BotToken, app.Slack.AppToken, SlackApp.SigningSecret, "ticket=" })
        {
            Assert.DoesNotContain(lines, l => l.Contains(secret, StringComparison.Ordinal));
            Assert.DoesNotContain(views, v => v.ToString().Contains(secret, StringComparison.Ordinal));
        }

        Assert.All(views, v => Assert.StartsWith("****", v.BotTokenHint));
    }
}
