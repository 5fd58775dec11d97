using System.Diagnostics;
using System.Text.RegularExpressions;
using Conclave.Agents.Contracts;
using Conclave.Chat.Contracts;
using Conclave.Sessions.Contracts;
using Conclave.Testing;
using Conclave.Testing.Host;

namespace Conclave.Host.Tests.Chat;

/// <summary>The Host with a scripted Discord: one Gateway connection with <see cref="Channel"/> bound to the Assistant team.</summary>
public sealed class DiscordApp : ConclaveApp
{
    public const string Channel = "700000000000000001";
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    public ScriptedDiscord Discord { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        Discord = await ScriptedDiscord.StartAsync();
        ExtraSettings["Conclave:Chat:DiscordApiUrl"] = Discord.ApiUrl.ToString();
        ExtraSettings["Conclave:Chat:EditInterval"] = "00:00:00.300";
        ExtraSettings["Conclave:Chat:PublicUrl"] = "http://localhost/";
        ExtraSettings["Conclave:Chat:ReconnectDelay"] = "00:00:00.100";
        await base.InitializeAsync();
        var connections = Service<IChatConnections>();
        var connection = await connections.AddDiscordAsync(new DiscordConnectionSettings("Scripted Discord", Discord.BotToken), CancellationToken.None);
        await connections.BindAsync(connection.Id, new ChannelBinding(Channel, DefaultTeam.Id, "Assistant"), CancellationToken.None);
        await connections.SetEnabledAsync(connection.Id, true, CancellationToken.None);
        await Eventually.Until(() => Discord.Identified == 1, Deadline, "the bot identified on the Gateway");
    }

    /// <summary>Links a Discord user to a new account through the link the bot sends by DM.</summary>
    public async Task<string> LinkAsync(string discordUser, string userName)
    {
        var account = await CreateUserAsync(userName);
        await Discord.DispatchAsync("MESSAGE_CREATE", Discord.UserMessage(Channel, discordUser, "hello?", mention: true));
        await Eventually.Until(() => Discord.InChannel("DM" + discordUser).Count > 0, Deadline, "the bot sent the link by DM");
        var prompt = Discord.InChannel("DM" + discordUser)[^1].Content;
        var path = new Uri(Regex.Match(prompt, "<(http[^|>]+)\\|").Groups[1].Value).AbsolutePath;
        using var browser = CreateCookieClient();
        await OidcFlow.SignInAsync(browser, userName, Password);
        var page = await (await OidcFlow.PostFormAsync(browser, path, "chat-link", [])).Content.ReadAsStringAsync();
        Assert.Contains("data-testid=\"chat-link-done\"", page);
        return account.Id;
    }

    /// <summary>The bot's first message in a thread once its closing usage line is there.</summary>
    public async Task<DiscordMessage> FinalAnswerAsync(string thread)
    {
        await Eventually.Until(() => Discord.InChannel(thread).Any(m => m.Content.EndsWith(" s_", StringComparison.Ordinal)), Deadline, "the answer's closing line");
        return Discord.InChannel(thread)[0];
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (Discord is not null)
        {
            await Discord.DisposeAsync();
        }
    }
}

/// <summary>Discord through the Gateway: the same flow as Slack, across a forced reconnect and resume.</summary>
[Collection(Agents.TimingCollection.Name)]
public sealed class DiscordTests(DiscordApp app) : IClassFixture<DiscordApp>
{
    private static readonly TimeSpan Deadline = DiscordApp.Deadline;

    [Fact]
    public async Task A_mention_runs_in_a_thread_and_a_reconnect_with_resume_mid_run_loses_no_event_and_starts_no_run_twice()
    {
        var first = await app.LinkAsync("500000000000000001", "discord-one");
        var second = await app.LinkAsync("500000000000000002", "discord-two");
        var gate = new ChunkGate();
        app.Provider.Enqueue(Reply.Chunks("part one, ", "part two").Gated(gate), Reply.Text("the missed mention is answered"));
        var mention = app.Discord.UserMessage(DiscordApp.Channel, "500000000000000001", "a long task", mention: true);
        await app.Discord.DispatchAsync("MESSAGE_CREATE", mention);
        await Eventually.Until(() => app.Discord.ThreadOf(mention["id"]!.GetValue<string>()) is { } t && app.Discord.InChannel(t).Count == 1, Deadline, "the placeholder is posted in a new thread");
        var thread = app.Discord.ThreadOf(mention["id"]!.GetValue<string>())!;
        gate.Release(1);
        await Eventually.Until(() => app.Discord.InChannel(thread)[0].Content.StartsWith("part one", StringComparison.Ordinal), Deadline, "the first part streams");

        await app.Discord.ForceReconnectAsync();
        var missed = app.Discord.UserMessage(DiscordApp.Channel, "500000000000000002", "while you were away", mention: true);
        await app.Discord.DispatchAsync("MESSAGE_CREATE", missed);
        await Eventually.Until(() => app.Discord.Resumed == 1, Deadline, "the bot resumed its session");
        await app.Discord.DispatchAsync("MESSAGE_CREATE", mention);
        gate.Release(1);

        var answer = await app.FinalAnswerAsync(thread);
        await Eventually.Until(() => app.Discord.ThreadOf(missed["id"]!.GetValue<string>()) is not null, Deadline, "the missed mention got its thread");
        var missedAnswer = await app.FinalAnswerAsync(app.Discord.ThreadOf(missed["id"]!.GetValue<string>())!);

        Assert.StartsWith("part one, part two\n\n_", answer.Content);
        Assert.StartsWith("the missed mention is answered", missedAnswer.Content);
        Assert.Equal(1, app.Discord.Identified);
        var sessions = app.Service<ISessions>();
        var firstSession = Assert.Single(await sessions.ListAsync(first, CancellationToken.None));
        Assert.Single(await sessions.RunsAsync(first, firstSession.Id, CancellationToken.None));
        Assert.Single(await sessions.ListAsync(second, CancellationToken.None));
        Assert.Single(app.Discord.InChannel(thread));

        app.Provider.Enqueue(Reply.Text("a follow-up answer"));
        await app.Discord.DispatchAsync("MESSAGE_CREATE", app.Discord.UserMessage(thread, "500000000000000001", "and then?", mention: false));
        await Eventually.Until(() => app.Discord.InChannel(thread).Any(m => m.Content.StartsWith("a follow-up answer", StringComparison.Ordinal)), Deadline, "the follow-up is answered in the thread");
        Assert.Equal(2, (await sessions.RunsAsync(first, firstSession.Id, CancellationToken.None)).Count);
    }

    [Fact]
    public async Task The_stop_component_stops_the_run_within_a_second()
    {
        var owner = await app.LinkAsync("500000000000000003", "discord-stop");
        app.Provider.Enqueue(Reply.Chunks("I will ", "go on ", "forever").StallAfter(1));
        var mention = app.Discord.UserMessage(DiscordApp.Channel, "500000000000000003", "loop forever", mention: true);
        await app.Discord.DispatchAsync("MESSAGE_CREATE", mention);
        await Eventually.Until(
            () => app.Discord.ThreadOf(mention["id"]!.GetValue<string>()) is { } t && app.Discord.InChannel(t).Any(m => m.Content.StartsWith("I will", StringComparison.Ordinal)),
            Deadline,
            "the first words are shown");
        var message = app.Discord.InChannel(app.Discord.ThreadOf(mention["id"]!.GetValue<string>())!)[0];
        var session = Assert.Single(await app.Service<ISessions>().ListAsync(owner, CancellationToken.None));
        var run = Assert.Single(await app.Service<ISessions>().RunsAsync(owner, session.Id, CancellationToken.None));
        var callbacks = app.Discord.InteractionCallbacks.Count;

        var clicked = Stopwatch.GetTimestamp();
        await app.Discord.ClickStopAsync(message, "500000000000000003");
        var end = await app.WaitForRunEndAsync(session.Id, run.Id);
        var latency = Stopwatch.GetElapsedTime(clicked);

        Assert.IsType<RunCancelled>(end.Data);
        Assert.True(latency < TimeSpan.FromSeconds(1), $"RunCancelled came {latency.TotalMilliseconds:F0} ms after the click");
        Assert.Equal(callbacks + 1, app.Discord.InteractionCallbacks.Count);
        await Eventually.Until(() => message.Content.Contains("_Stopped: ", StringComparison.Ordinal), Deadline, "the answer says it was stopped");
    }

    [Fact]
    public async Task A_plot_is_attached_in_the_thread_and_a_429_delays_the_next_edit()
    {
        await app.LinkAsync("500000000000000004", "discord-plot");
        app.Provider.Enqueue(
            Reply.ToolCall("run_python", """{"code": "import matplotlib.pyplot as plt\nplt.plot([1, 4, 9])\nplt.show()"}"""),
            Reply.Text("The plot shows the squares, drawn for you just now."));
        app.Discord.RateLimitNextEdit(TimeSpan.FromSeconds(1));
        var edits = app.Discord.EditsAt.Count;
        var mention = app.Discord.UserMessage(DiscordApp.Channel, "500000000000000004", "plot squares", mention: true);

        await app.Discord.DispatchAsync("MESSAGE_CREATE", mention);
        await Eventually.Until(() => app.Discord.ThreadOf(mention["id"]!.GetValue<string>()) is not null, Deadline, "a thread is started");
        var thread = app.Discord.ThreadOf(mention["id"]!.GetValue<string>())!;
        await Eventually.Until(
            () => app.Discord.InChannel(thread).Any(m => m.Content.EndsWith(" s_", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(90),
            "the answer is finished");
        await Eventually.Until(() => app.Discord.Attachments.Any(a => a.Channel == thread), Deadline, "the plot is attached");

        var answer = app.Discord.InChannel(thread)[0];
        Assert.Contains("› `run_python` done (", answer.Content);
        Assert.Contains("The plot shows the squares, drawn for you just now.", answer.Content);
        var attachment = Assert.Single(app.Discord.Attachments, a => a.Channel == thread);
        Assert.EndsWith(".png", attachment.FileName);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], attachment.Content.Take(4).ToArray());
        var patches = app.Discord.EditsAt.Skip(edits).ToList();
        Assert.True(patches.Count >= 2);
        var waited = Stopwatch.GetElapsedTime(patches[0], patches[1]);
        Assert.True(waited >= TimeSpan.FromMilliseconds(980), $"the edit after the 429 came {waited.TotalMilliseconds:F0} ms later (Retry-After: 1 s)");
    }
}
