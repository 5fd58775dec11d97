using Conclave.Sessions.Contracts;
using Conclave.Testing;
using Conclave.Testing.Host;

namespace Conclave.Host.Tests.Agents;

/// <summary>Teams work a task step by step; every step is in the log, in order, and tools really run.</summary>
public sealed class TeamRunTests(ConclaveApp app) : IClassFixture<ConclaveApp>
{
    private const string Owner = "team-runs";
    private static readonly Guid PlannerCoderCritic = new("00000000-0000-7000-8000-0000000000c3");
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task A_planner_coder_critic_run_executes_the_coders_python_feeds_the_result_back_and_ends_on_approval()
    {
        var sessions = app.Service<ISessions>();
        var session = await sessions.CreateAsync(Owner, "six times seven", None);
        await sessions.ChooseTeamAsync(Owner, session.Id, PlannerCoderCritic, "Planner-Coder-Critic", None);
        var first = app.Provider.Requests.Count;
        app.Provider.Enqueue(
            Reply.Text("1. Compute 6 * 7 in Python."),
            Reply.ToolCall("run_python", """{"code": "print(6 * 7)"}""", id: "call_py_1"),
            Reply.Text("The result is 42."),
            Reply.Text("Correct and clear: 6 x 7 = 42. APPROVE"));

        var posted = await sessions.PostMessageAsync(Owner, session.Id, "What is 6 times 7? Use Python.", None);
        var end = await app.WaitForRunEndAsync(session.Id, posted.RunId, Deadline);

        var completed = Assert.IsType<RunCompleted>(end.Data);
        Assert.Equal("Critic said APPROVE.", completed.Reason);
        var steps = (await app.EventsAsync(session.Id))
            .Where(e => e.Data is AgentMessageCompleted or ToolCallRequested or ToolCallCompleted or RunStarted or RunCompleted)
            .Select(e => e.Data switch
            {
                AgentMessageCompleted m => $"message {m.Agent}",
                ToolCallRequested c => $"call {c.Agent} {c.Tool}",
                ToolCallCompleted r => $"result {r.Tool} {r.Outcome}",
                _ => e.Type,
            })
            .ToList();
        Assert.Equal(
            ["RunStarted", "message Planner", "message Coder", "call Coder run_python", "result run_python Ok", "message Coder", "message Critic", "RunCompleted"],
            steps);
        var result = (await app.EventsAsync(session.Id)).Select(e => e.Data).OfType<ToolCallCompleted>().Single();
        Assert.Contains("42", result.Output);
        Assert.Equal("call_py_1", result.CallId);

        var requests = app.Provider.Requests.Skip(first).ToList();
        Assert.Equal(4, requests.Count);
        // Each agent is offered exactly its tools, and its system prompt lists exactly those.
        Assert.Empty(requests[0].ToolNames);
        Assert.Contains("You have no tools", requests[0].Messages[0].Content);
        Assert.Equal(["run_python", "list_files", "read_file", "write_file"], requests[1].ToolNames);
        Assert.Contains("run_python(code: string)", requests[1].Messages[0].Content);
        Assert.Equal(["list_files", "read_file"], requests[3].ToolNames);
        // The coder's second turn sees its own call and the real result.
        var toolMessage = requests[2].Messages.Single(m => m.Role == "tool");
        Assert.Equal("call_py_1", toolMessage.ToolCallId);
        Assert.Contains("42", toolMessage.Content);
        // The critic sees the others' work as named turns.
        Assert.Contains(requests[3].Messages, m => m.Role == "user" && m.Content!.StartsWith("[Coder]", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_call_of_a_tool_that_does_not_exist_or_with_bad_arguments_gets_a_correction_and_the_run_goes_on()
    {
        var sessions = app.Service<ISessions>();
        var session = await sessions.CreateAsync(Owner, "corrections", None);
        var first = app.Provider.Requests.Count;
        app.Provider.Enqueue(
            Reply.ToolCall("search_web", """{"query": "weather"}"""),
            Reply.ToolCall("read_file", """{"path": """),
            Reply.ToolCall("read_file", """{"file": "a.txt"}"""),
            Reply.Text("I cannot browse; here is what I know."));

        var posted = await sessions.PostMessageAsync(Owner, session.Id, "What's the weather?", None);
        var end = await app.WaitForRunEndAsync(session.Id, posted.RunId, Deadline);

        Assert.IsType<RunFailed>(end.Data);
        var results = (await app.EventsAsync(session.Id)).Select(e => e.Data).OfType<ToolCallCompleted>().ToList();
        Assert.Equal(3, results.Count);
        Assert.All(results, r => Assert.Equal(ToolOutcome.Rejected, r.Outcome));
        Assert.Contains("There is no tool named 'search_web'", results[0].Output);
        Assert.Contains("run_python(code: string), list_files(), read_file(path: string), write_file(path: string, content: string)", results[0].Output);
        Assert.Contains("not valid JSON", results[1].Output);
        Assert.Contains("read_file has no parameter 'file'", results[2].Output);
        // The corrections reached the model as the tools' answers.
        Assert.Contains(app.Provider.Requests[first + 1].Messages, m => m.Role == "tool" && m.Content!.Contains("There is no tool named 'search_web'"));
        // Three corrections in one run end it with a reason instead of looping; the fourth reply was never asked for.
        var failed = (RunFailed)end.Data;
        Assert.Contains("kept calling tools that do not exist", failed.Reason);
        Assert.Equal(3, app.Provider.Requests.Count - first);
        Assert.Equal(1, app.Provider.QueuedReplies);
        app.Provider.Clear();
    }

    [Fact]
    public async Task One_correction_then_a_real_answer_completes_the_run()
    {
        var sessions = app.Service<ISessions>();
        var session = await sessions.CreateAsync(Owner, "one slip", None);
        app.Provider.Enqueue(
            Reply.ToolCall("python", """{"code": "1+1"}"""),
            Reply.Text("2"));

        var posted = await sessions.PostMessageAsync(Owner, session.Id, "1+1?", None);
        var end = await app.WaitForRunEndAsync(session.Id, posted.RunId, Deadline);

        Assert.IsType<RunCompleted>(end.Data);
        var result = Assert.Single((await app.EventsAsync(session.Id)).Select(e => e.Data).OfType<ToolCallCompleted>());
        Assert.Equal(ToolOutcome.Rejected, result.Outcome);
    }

    [Fact]
    public async Task The_same_tool_call_three_times_ends_the_run_as_a_loop()
    {
        var sessions = app.Service<ISessions>();
        var session = await sessions.CreateAsync(Owner, "loop", None);
        var first = app.Provider.Requests.Count;
        app.Provider.Enqueue(
            Reply.ToolCall("list_files", "{}"),
            Reply.ToolCall("list_files", "{ }"),
            Reply.ToolCall("list_files", "{}"),
            Reply.Text("never asked for"));

        var posted = await sessions.PostMessageAsync(Owner, session.Id, "what files are there?", None);
        var end = await app.WaitForRunEndAsync(session.Id, posted.RunId, Deadline);

        var failed = Assert.IsType<RunFailed>(end.Data);
        Assert.Contains("called list_files with the same arguments 3 times", failed.Reason);
        Assert.Equal(3, app.Provider.Requests.Count - first);
        Assert.Equal(2, (await app.EventsAsync(session.Id)).Select(e => e.Data).OfType<ToolCallCompleted>().Count());
        app.Provider.Clear();
    }

    [Fact]
    public async Task Usage_a_provider_does_not_report_is_estimated_and_its_cost_is_unknown_not_zero()
    {
        var sessions = app.Service<ISessions>();
        var session = await sessions.CreateAsync(Owner, "no usage", None);
        app.Provider.Enqueue(Reply.Text("An answer of a few words, without usage.").WithoutUsage());

        var posted = await sessions.PostMessageAsync(Owner, session.Id, "Say something", None);
        await app.WaitForRunEndAsync(session.Id, posted.RunId, Deadline);

        var message = (await app.EventsAsync(session.Id)).Select(e => e.Data).OfType<AgentMessageCompleted>().Single();
        Assert.True(message.Usage.Estimated);
        Assert.InRange(message.Usage.CompletionTokens, 5, 20);
        Assert.True(message.Usage.PromptTokens > 50, "the system prompt alone is more than 50 tokens");
        Assert.Null(message.Cost);
        var summary = await sessions.FindAsync(Owner, session.Id, None);
        Assert.Equal(1, summary!.UnpricedMessages);
        Assert.Equal(message.Usage.PromptTokens, summary.PromptTokens);
    }
}
