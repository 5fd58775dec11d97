using System.Text.Json;
using System.Text.RegularExpressions;
using Conclave.Agents.Contracts;
using Conclave.Sandbox.Contracts;
using Conclave.Sessions.Contracts;
using Conclave.Testing;

namespace Conclave.Host.Tests.Web;

/// <summary>
/// A run of a scripted model with the web tools: it searches (the site's SearXNG-compatible /search), opens
/// the result, fills and submits the form, reads the answer, screenshots it and quotes it. Every step goes
/// through the real orchestrator, tool registry, browser and workspace.
/// </summary>
[Collection(WebApp.Collection)]
public sealed partial class AgentBrowsingTests(WebApp app)
{
    private const string Owner = "web-researcher";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(120);
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task An_agent_searches_opens_a_result_submits_its_form_reads_and_screenshots_the_answer_and_quotes_it()
    {
        var team = await app.Service<ITeams>().CreateAsync(Owner, new TeamDefinition
        {
            Name = "Web researcher",
            Agents = [new AgentDefinition("Researcher", "Researches on the web", "You research questions on the web.", ["web_search", "open_url", "read_page", "type", "screenshot"])],
            Termination = new TerminationRules { EndOnAnswer = true, MaxTurns = 12 },
        }, None);
        var sessions = app.Service<ISessions>();
        var session = await sessions.CreateAsync(Owner, "web research", None);
        await sessions.ChooseTeamAsync(Owner, session.Id, team.Id, team.Name, None);
        app.Provider.RespondWith(Next);

        var posted = await sessions.PostMessageAsync(Owner, session.Id, "Ask the oracle about blue whales and tell me what it says.", None);
        var end = await app.WaitForRunEndAsync(session.Id, posted.RunId, Deadline);

        var events = await app.EventsAsync(session.Id);
        Assert.True(end.Data is RunCompleted, string.Join("\n", events.Select(e => e.Data is ToolCallCompleted c ? $"{c.Tool}: {c.Output}" : e.Type)));
        var calls = events.Select(e => e.Data).OfType<ToolCallCompleted>().ToList();
        Assert.Equal(["web_search", "open_url", "read_page", "type", "read_page", "screenshot"], calls.Select(c => c.Tool));
        Assert.All(calls, c => Assert.Equal(ToolOutcome.Ok, c.Outcome));
        var answer = events.Select(e => e.Data).OfType<AgentMessageCompleted>().Last();
        Assert.Contains("The answer is forty-two.", answer.Text, StringComparison.Ordinal);
        var screenshot = Assert.Single(calls[^1].Images);
        Assert.Contains(await app.Service<IWorkspace>().ListAsync(session.Id), f => f.Path == screenshot && f.SizeBytes > 1000);
        // The model was offered the web tools, and its prompt lists them with their signatures.
        var firstRequest = app.Provider.Requests.First(r => r.Messages.Any(m => m.Content?.Contains("blue whales", StringComparison.Ordinal) == true));
        Assert.Contains("type", firstRequest.ToolNames);
        Assert.Contains("type(ref: string, text: string, submit?: boolean)", firstRequest.Messages[0].Content, StringComparison.Ordinal);
    }

    /// <summary>The scripted model: the next step from what its tools answered so far.</summary>
    private static Reply Next(RecordedRequest request)
    {
        var results = request.Messages.Where(m => m.Role == "tool").Select(m => m.Content ?? "").ToList();
        return results.Count switch
        {
            0 => Reply.ToolCall("web_search", """{"query": "oracle question form"}"""),
            1 => Reply.ToolCall("open_url", JsonSerializer.Serialize(new { url = FormUrl().Match(results[0]).Value })),
            2 => Reply.ToolCall("read_page", "{}"),
            3 => Reply.ToolCall("type", JsonSerializer.Serialize(new { @ref = BrowserToolTests.Ref(results[2], "textbox", "Your question"), text = "blue whales", submit = true })),
            4 => Reply.ToolCall("read_page", "{}"),
            5 => Reply.ToolCall("screenshot", "{}"),
            _ => Reply.Text($"The oracle says: \"{Answer().Match(results[4]).Value}\""),
        };
    }

    [GeneratedRegex(@"http://127\.0\.0\.1:\d+/form")]
    private static partial Regex FormUrl();

    [GeneratedRegex(@"The answer is [a-z-]+\.")]
    private static partial Regex Answer();
}
