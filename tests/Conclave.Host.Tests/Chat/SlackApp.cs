using System.Text.RegularExpressions;
using Conclave.Agents.Contracts;
using Conclave.Chat.Contracts;
using Conclave.Testing;
using Conclave.Testing.Host;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace Conclave.Host.Tests.Chat;

/// <summary>
/// The Host with a scripted Slack: one Socket Mode connection and one Events API connection, both with
/// <see cref="Channel"/> bound to the built-in Assistant team, configured through the admin contract as
/// an admin would. Edits are throttled to <see cref="EditInterval"/>.
/// </summary>
public class SlackApp : ConclaveApp
{
    public const string Channel = "C0BOUND01";
    public const string SigningSecret = "8f742231b10e8888abcd99yyyzzz85a5";
    public static readonly TimeSpan EditInterval = TimeSpan.FromMilliseconds(400);
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    public ScriptedSlack Slack { get; private set; } = null!;

    public Guid SocketConnectionId { get; private set; }

    public Guid EventsConnectionId { get; private set; }

    public CapturedLogs Logs { get; } = new();

    /// <summary>Log everything, down to Trace (slower: only the log-scanning fixture does).</summary>
    protected virtual bool TraceLogging => false;

    public override async Task InitializeAsync()
    {
        Slack = await ScriptedSlack.StartAsync();
        ExtraSettings["Conclave:Chat:SlackApiUrl"] = Slack.ApiUrl.ToString();
        ExtraSettings["Conclave:Chat:EditInterval"] = EditInterval.ToString();
        ExtraSettings["Conclave:Chat:PublicUrl"] = "http://localhost/";
        ExtraSettings["Conclave:Chat:ReconnectDelay"] = "00:00:00.100";
        await base.InitializeAsync();

        var connections = Service<IChatConnections>();
        var socket = await connections.AddSlackAsync(
            new SlackConnectionSettings("Scripted Slack", SlackMode.SocketMode, Slack.BotToken, Slack.AppToken, null), CancellationToken.None);
        var events = await connections.AddSlackAsync(
            new SlackConnectionSettings("Scripted Slack (Events API)", SlackMode.EventsApi, Slack.BotToken, null, SigningSecret), CancellationToken.None);
        SocketConnectionId = socket.Id;
        EventsConnectionId = events.Id;
        foreach (var id in new[] { socket.Id, events.Id })
        {
            await connections.BindAsync(id, new ChannelBinding(Channel, DefaultTeam.Id, "Assistant"), CancellationToken.None);
            await connections.SetEnabledAsync(id, true, CancellationToken.None);
        }

        await Slack.WaitForConnectionAsync(1, Deadline);
    }

    protected override void ConfigureHost(IWebHostBuilder builder) =>
        builder.ConfigureLogging(logging =>
        {
            if (TraceLogging)
            {
                logging.SetMinimumLevel(LogLevel.Trace);
                logging.AddFilter<CapturedLogs>(null, LogLevel.Trace);
            }

            logging.AddProvider(Logs);
        });

    /// <summary>
    /// Links <paramref name="slackUser"/> to a new account <paramref name="userName"/> the way a person does:
    /// a mention, the private link the bot answers with, sign-in, and the confirmation form.
    /// </summary>
    /// <param name="eventsApi">Link on the Events API connection (links are per connection) instead of the Socket Mode one.</param>
    public async Task<string> LinkAsync(string slackUser, string userName, bool eventsApi = false)
    {
        var account = await CreateUserAsync(userName);
        var before = Slack.Ephemerals.Count;
        var mention = Slack.Mention(Channel, slackUser, "hello?");
        if (eventsApi)
        {
            using var slack = CreateAnonymousClient();
            var response = await ScriptedSlack.PostSignedAsync(slack, $"/api/v1/chat/slack/{EventsConnectionId}/events", mention.ToJsonString(), SigningSecret);
            response.EnsureSuccessStatusCode();
        }
        else
        {
            await Slack.SendEventAsync(mention, Deadline);
        }

        await Eventually.Until(() => Slack.Ephemerals.Count > before, Deadline, "the bot sent the link privately");
        var path = LinkPath(Slack.Ephemerals.Last(e => e.User == slackUser).Text);

        using var browser = CreateCookieClient();
        await OidcFlow.SignInAsync(browser, userName, Password);
        var confirmed = await OidcFlow.PostFormAsync(browser, path, "chat-link", []);
        var page = await confirmed.Content.ReadAsStringAsync();
        Assert.True(page.Contains("data-testid=\"chat-link-done\"", StringComparison.Ordinal), page);
        return account.Id;
    }

    public static string LinkPath(string prompt) =>
        new Uri(Regex.Match(prompt, "<(http[^|>]+)\\|").Groups[1].Value).AbsolutePath;

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (Slack is not null)
        {
            await Slack.DisposeAsync();
        }
    }
}

/// <summary>The same Host logging every line at Trace into <see cref="SlackApp.Logs"/>.</summary>
public sealed class TracedSlackApp : SlackApp
{
    protected override bool TraceLogging => true;
}
