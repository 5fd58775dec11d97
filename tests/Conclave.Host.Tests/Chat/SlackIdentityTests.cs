using Conclave.Sessions.Contracts;
using Conclave.Testing;
using Conclave.Testing.Host;

namespace Conclave.Host.Tests.Chat;

/// <summary>Who runs what: a Slack user acts only through the Conclave account they linked, once, in the browser.</summary>
public sealed class SlackIdentityTests(SlackApp app) : IClassFixture<SlackApp>
{
    private static readonly TimeSpan Deadline = SlackApp.Deadline;

    [Fact]
    public async Task An_unlinked_user_gets_a_private_link_and_nothing_runs()
    {
        var requests = app.Provider.Requests.Count;
        var mention = app.Slack.Mention(SlackApp.Channel, "U0NEWBIE", "do something");

        await app.Slack.SendEventAsync(mention, Deadline);

        var prompt = Assert.Single(app.Slack.Ephemerals, e => e.User == "U0NEWBIE");
        Assert.Equal(SlackApp.Channel, prompt.Channel);
        Assert.Equal(ScriptedSlack.ThreadOf(mention), prompt.ThreadTs);
        Assert.StartsWith("/chat/link/", SlackApp.LinkPath(prompt.Text));
        Assert.Empty(app.Slack.Thread(SlackApp.Channel, ScriptedSlack.ThreadOf(mention)));
        Assert.Equal(requests, app.Provider.Requests.Count);
    }

    [Fact]
    public async Task After_linking_the_run_is_owned_by_the_linked_user_and_their_quota_refusal_is_posted_in_the_thread()
    {
        var owner = await app.LinkAsync("U0QUOTA", "slack-quota");
        await app.Service<IQuotas>().SetAsync(owner, new QuotaOverride(null, 50, null), CancellationToken.None);
        app.Provider.Enqueue(Reply.Text("an answer").WithUsage(40, 20));
        var mention = app.Slack.Mention(SlackApp.Channel, "U0QUOTA", "first");
        var thread = ScriptedSlack.ThreadOf(mention);
        await app.Slack.SendEventAsync(mention, Deadline);
        await Eventually.Until(() => app.Slack.Thread(SlackApp.Channel, thread).Any(p => p.Text.EndsWith(" s_", StringComparison.Ordinal)), Deadline, "the first answer is posted");

        var session = Assert.Single(await app.Service<ISessions>().ListAsync(owner, CancellationToken.None));
        Assert.Contains(await app.EventsAsync(session.Id), e => e.Data is SessionStarted started && started.OwnerId == owner);
        var runs = await app.Service<ISessions>().RunsAsync(owner, session.Id, CancellationToken.None);

        await app.Slack.SendEventAsync(app.Slack.ThreadMessage(SlackApp.Channel, "U0QUOTA", "second", thread), Deadline);

        await Eventually.Until(
            () => app.Slack.Thread(SlackApp.Channel, thread).Any(p => p.Text.Contains("daily budget is 50", StringComparison.Ordinal)),
            Deadline,
            "the quota refusal is posted in the thread");
        Assert.Equal(runs.Count, (await app.Service<ISessions>().RunsAsync(owner, session.Id, CancellationToken.None)).Count);
    }

    [Fact]
    public async Task A_link_works_once_and_only_for_a_signed_in_user()
    {
        await app.CreateUserAsync("slack-once");
        await app.Slack.SendEventAsync(app.Slack.Mention(SlackApp.Channel, "U0ONCE", "hi"), Deadline);
        var path = SlackApp.LinkPath(Assert.Single(app.Slack.Ephemerals, e => e.User == "U0ONCE").Text);

        using var anonymous = app.CreateAnonymousClient();
        var unsigned = await anonymous.GetAsync(path);
        Assert.Equal(System.Net.HttpStatusCode.Redirect, unsigned.StatusCode);
        Assert.Contains("login", unsigned.Headers.Location!.ToString(), StringComparison.OrdinalIgnoreCase);

        using var browser = app.CreateCookieClient();
        await OidcFlow.SignInAsync(browser, "slack-once", ConclaveApp.Password);
        var first = await (await OidcFlow.PostFormAsync(browser, path, "chat-link", [])).Content.ReadAsStringAsync();
        var again = await (await browser.GetAsync(path)).Content.ReadAsStringAsync();
        var unknown = await (await browser.GetAsync("/chat/link/" + new string('x', 43))).Content.ReadAsStringAsync();

        Assert.Contains("data-testid=\"chat-link-done\"", first);
        Assert.Contains("data-testid=\"chat-link-invalid\"", again);
        Assert.Contains("data-testid=\"chat-link-invalid\"", unknown);
    }

    [Fact]
    public async Task Others_chatting_in_a_thread_without_mentioning_the_bot_start_nothing_and_get_no_prompt()
    {
        var owner = await app.LinkAsync("U0TOWNER", "slack-thread-owner");
        app.Provider.Enqueue(Reply.Text("answer for the owner"));
        var mention = app.Slack.Mention(SlackApp.Channel, "U0TOWNER", "start");
        var thread = ScriptedSlack.ThreadOf(mention);
        await app.Slack.SendEventAsync(mention, Deadline);
        await Eventually.Until(() => app.Slack.Thread(SlackApp.Channel, thread).Any(p => p.Text.EndsWith(" s_", StringComparison.Ordinal)), Deadline, "the answer is posted");
        var ephemerals = app.Slack.Ephemerals.Count;

        await app.Slack.SendEventAsync(app.Slack.ThreadMessage(SlackApp.Channel, "U0BYSTANDER", "nice answer", thread), Deadline);

        var session = Assert.Single(await app.Service<ISessions>().ListAsync(owner, CancellationToken.None));
        Assert.Single(await app.Service<ISessions>().RunsAsync(owner, session.Id, CancellationToken.None));
        Assert.Equal(ephemerals, app.Slack.Ephemerals.Count);
        Assert.Single(app.Slack.Thread(SlackApp.Channel, thread));
    }
}
