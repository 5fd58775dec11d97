using System.Diagnostics;
using System.Text.RegularExpressions;
using Conclave.Agents.Contracts;
using Conclave.Bench.Common;
using Conclave.Chat.Contracts;
using Conclave.Testing;
using Conclave.Testing.Host;

// Prints the Slack bridge's figures (issue 15): mention to first visible answer text with the scripted model,
// counting the production edit throttle (Conclave:Chat:EditInterval, 1 s), and 20 threads at once: all answered,
// 0 duplicate posts, the edit rate Slack saw.
// Run: source .data/env.sh; Logging__LogLevel__Default=Warning dotnet run -c Release --project bench/Conclave.Bench.Chat [-- --smoke]
//   --smoke  tiny n, no thresholds (test.sh runs every bench this way); unanswered threads or duplicate posts still fail it
var smoke = args.Contains("--smoke");
var sequential = smoke ? 3 : 30;
var concurrent = smoke ? 5 : 20;
const string Channel = "CBENCH0001";
var deadline = TimeSpan.FromSeconds(smoke ? 60 : 120);
var table = new Table(smoke);

await using var slack = await ScriptedSlack.StartAsync();
var app = new ConclaveApp();
app.ExtraSettings["Conclave:Chat:SlackApiUrl"] = slack.ApiUrl.ToString();
app.ExtraSettings["Conclave:Chat:PublicUrl"] = "http://localhost/";
await app.InitializeAsync();
try
{
    var connections = app.Service<IChatConnections>();
    var connection = await connections.AddSlackAsync(
        new SlackConnectionSettings("bench", SlackMode.SocketMode, slack.BotToken, slack.AppToken, null), CancellationToken.None);
    await connections.BindAsync(connection.Id, new ChannelBinding(Channel, DefaultTeam.Id, "Assistant"), CancellationToken.None);
    await connections.SetEnabledAsync(connection.Id, true, CancellationToken.None);
    await slack.WaitForConnectionAsync(1, deadline);
    await LinkAsync("UBENCH0001", "bench-user");
    app.Provider.RespondWith(Reply.Text("A short answer from the scripted model, streamed word by word.").WithUsage(20, 12));

    // 1. Mention to first visible answer text, one thread at a time.
    var firstText = new List<double>();
    for (var i = 0; i < sequential; i++)
    {
        var mention = slack.Mention(Channel, "UBENCH0001", $"question {i}");
        var thread = ScriptedSlack.ThreadOf(mention);
        var sent = Stopwatch.GetTimestamp();
        await slack.SendEventAsync(mention, deadline);
        await Eventually.Until(() => slack.Thread(Channel, thread).Any(p => p.Versions.Any(v => v.Text.StartsWith("A short", StringComparison.Ordinal))), deadline, "the answer text is shown");
        var shown = slack.Thread(Channel, thread)[0].Versions.First(v => v.Text.StartsWith("A short", StringComparison.Ordinal)).At;
        firstText.Add(Stopwatch.GetElapsedTime(sent, shown).TotalMilliseconds);
        await Final(thread);
    }

    table.Add(Figure.Of("mention to first visible answer text (1 s edit throttle counted)", firstText, "ms", Target.Latency(1500, null)));

    // 2. Many threads at once.
    var threads = Enumerable.Range(0, concurrent).Select(i => slack.Mention(Channel, "UBENCH0001", $"parallel {i}")).ToList();
    var burst = Stopwatch.StartNew();
    var updatesBefore = slack.Calls.Count(c => c.Method == "chat.update");
    await Task.WhenAll(threads.Select(t => slack.SendEventAsync(t, deadline)));
    var answered = 0;
    foreach (var mention in threads)
    {
        try
        {
            await Final(ScriptedSlack.ThreadOf(mention));
            answered++;
        }
        catch (TimeoutException)
        {
        }
    }

    burst.Stop();
    var duplicates = threads.Sum(t => Math.Max(0, slack.Thread(Channel, ScriptedSlack.ThreadOf(t)).Count - 1));
    var updates = slack.Calls.Count(c => c.Method == "chat.update") - updatesBefore;
    table.Add(Figure.Count($"threads answered of {concurrent} at once", answered, "threads", Target.AtLeastValue(concurrent)));
    table.Add(Figure.Count("duplicate posts in those threads", duplicates, "posts", Target.NoneAllowed));
    table.Add(Figure.Single($"{concurrent} threads at once: wall time until every answer's final edit", burst.Elapsed.TotalMilliseconds, "ms", Target.None));
    table.Add(Figure.Single("chat.update rate Slack saw during the burst", updates / burst.Elapsed.TotalSeconds, "edits/s", Target.None));
    table.Note("Scripted Slack (Socket Mode + Web API over loopback) and scripted model; one Host, one PostgreSQL, this machine's 2 shared cores.");
}
finally
{
    await app.DisposeAsync();
}

table.Print();
return table.ExitCode;

async Task Final(string thread) =>
    await Eventually.Until(() => slack.Thread(Channel, thread).Any(p => p.Text.EndsWith(" s_", StringComparison.Ordinal)), deadline, "the answer's closing line is posted");

async Task LinkAsync(string slackUser, string userName)
{
    await app.CreateUserAsync(userName);
    await slack.SendEventAsync(slack.Mention(Channel, slackUser, "hello?"), deadline);
    await Eventually.Until(() => slack.Ephemerals.Any(e => e.User == slackUser), deadline, "the bot sent the link");
    var prompt = slack.Ephemerals.Last(e => e.User == slackUser).Text;
    var path = new Uri(Regex.Match(prompt, "<(http[^|>]+)\\|").Groups[1].Value).AbsolutePath;
    using var browser = app.CreateCookieClient();
    await OidcFlow.SignInAsync(browser, userName, ConclaveApp.Password);
    var page = await (await OidcFlow.PostFormAsync(browser, path, "chat-link", [])).Content.ReadAsStringAsync();
    if (!page.Contains("chat-link-done", StringComparison.Ordinal))
    {
        throw new InvalidOperationException("Linking the bench user failed.");
    }
}
