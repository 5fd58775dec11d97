using Conclave.Agents.Contracts;
using Conclave.Agents.Tests.Runs;
using Conclave.Agents.Tools;
using Conclave.Knowledge.Contracts;
using Conclave.Sandbox.Contracts;
using Conclave.Sessions.Contracts;

namespace Conclave.Agents.Tests.Tools;

/// <summary>Each tool is described once (the sandbox's catalogue, the Knowledge module's definition); names, schemas, prompts and calls follow from it.</summary>
public sealed class ToolRegistryTests
{
    private static readonly Guid Session = Guid.NewGuid();

    [Fact]
    public void The_tools_an_agent_can_have_are_the_catalogue_s()
    {
        var registry = new ToolRegistry(new RecordingSandbox(), new RecordingKnowledge());

        Assert.Equal(SandboxToolCatalog.Tools.Select(t => t.Name), registry.Available.Select(t => t.Name));
        Assert.Equal(SandboxToolCatalog.Tools.Select(t => t.Name), ToolRegistry.Names);
    }

    [Fact]
    public void A_toolbox_has_exactly_the_agent_s_tools_with_their_described_parameters()
    {
        var agent = RunLog.Agent("Coder") with { Tools = ["write_file", "list_files"] };
        var toolbox = new ToolRegistry(new RecordingSandbox(), new RecordingKnowledge()).For(Session, RunLog.Team(SpeakerSelection.RoundRobin, null, "Coder"), agent);

        Assert.Equal(["write_file(path: string, content: string)", "list_files()"], toolbox.Signatures);
        var prompt = toolbox.Describe();
        Assert.Contains(SandboxToolCatalog.WriteFile.Description, prompt, StringComparison.Ordinal);
        Assert.DoesNotContain("run_python", prompt, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_checked_call_reaches_the_sandbox_with_its_arguments_by_name()
    {
        var sandbox = new RecordingSandbox();
        var agent = RunLog.Agent("Coder") with { Tools = ["write_file", "read_file"] };
        var toolbox = new ToolRegistry(sandbox, new RecordingKnowledge()).For(Session, RunLog.Team(SpeakerSelection.RoundRobin, null, "Coder"), agent);

        var written = await InvokeAsync(toolbox, "write_file", """{"content":"hello","path":"notes.md"}""");
        var missing = await InvokeAsync(toolbox, "read_file", """{"path":"missing"}""");

        Assert.Equal(["write notes.md hello", "read missing"], sandbox.Calls);
        Assert.Equal(("Wrote notes.md.", ToolOutcome.Ok), (written.Text, written.Outcome));
        Assert.Equal(ToolOutcome.Error, missing.Outcome); // the sandbox's "error:" is the agent's to fix
    }

    [Fact]
    public void A_handoff_team_gives_each_agent_a_transfer_to_every_other()
    {
        var team = RunLog.Team(SpeakerSelection.Handoff, null, "Triage", "Expert", "Writer");

        var toolbox = new ToolRegistry(new RecordingSandbox(), new RecordingKnowledge()).For(Session, team, team.Agents[0]);

        Assert.Equal(["transfer_to_Expert()", "transfer_to_Writer()"], toolbox.Signatures);
    }

    [Fact]
    public void Search_knowledge_is_offered_only_to_a_run_with_knowledge_and_asks_for_citations()
    {
        var registry = new ToolRegistry(new RecordingSandbox(), new RecordingKnowledge());
        var team = RunLog.Team(SpeakerSelection.RoundRobin, null, "Assistant");
        var agent = team.Agents[0] with { Tools = ["list_files"] };

        var without = registry.For(Session, team, agent);
        var with = registry.For(Session, team, agent, new RunKnowledge("owner", null, () => 1));

        Assert.Equal(["list_files()"], without.Signatures);
        Assert.DoesNotContain(KnowledgeToolDefinition.Name, without.Describe(), StringComparison.Ordinal);
        Assert.Equal(["list_files()", "search_knowledge(query: string, top_k?: integer)"], with.Signatures);
        Assert.Contains(KnowledgeToolDefinition.Description, with.Describe(), StringComparison.Ordinal);
        Assert.EndsWith(KnowledgeToolDefinition.CitationInstructions, with.Describe(), StringComparison.Ordinal);
        var topK = with.Functions.Single(f => f.Name == KnowledgeToolDefinition.Name).Metadata.Parameters.Single(p => p.Name == "top_k");
        Assert.False(topK.IsRequired);
        Assert.Contains("\"maximum\":20", topK.Schema!.ToString().Replace(" ", "", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_search_numbers_its_passages_on_from_those_given_before_and_keeps_them_with_its_answer()
    {
        var knowledge = new RecordingKnowledge();
        var team = RunLog.Team(SpeakerSelection.RoundRobin, null, "Assistant");
        var toolbox = new ToolRegistry(new RecordingSandbox(), knowledge).For(Session, team, team.Agents[0], new RunKnowledge("owner", Guid.Empty, () => 4));

        var answer = await InvokeAsync(toolbox, "search_knowledge", """{"query":"warranty","top_k":2}""");
        var quoted = await InvokeAsync(toolbox, "search_knowledge", """{"query":"refunds","top_k":"1"}""");
        var defaulted = await InvokeAsync(toolbox, "search_knowledge", """{"query":"returns"}""");

        Assert.Equal(["owner warranty 2 from 4", "owner refunds 1 from 4", $"owner returns {KnowledgeToolDefinition.DefaultTopK} from 4"], knowledge.Calls);
        Assert.Equal(ToolOutcome.Ok, answer.Outcome);
        Assert.StartsWith("[4] terms.pdf, page 2\n", answer.Text, StringComparison.Ordinal);
        Assert.Equal([4, 5], answer.Passages!.Select(p => p.Number));
        Assert.Equal(("terms.pdf", 2), (answer.Passages![0].DocumentName, answer.Passages[0].Page));
        Assert.Single(quoted.Passages!);
        Assert.NotNull(defaulted.Passages);
    }

    [Theory]
    [InlineData("""{"query":"x","top_k":"many"}""", "must be a whole number")]
    [InlineData("""{"query":"x","top_k":2.5}""", "must be a whole number")]
    [InlineData("""{"top_k":3}""", "needs the argument 'query'")]
    public void A_search_with_bad_arguments_is_corrected(string arguments, string correction)
    {
        var team = RunLog.Team(SpeakerSelection.RoundRobin, null, "Assistant");
        var toolbox = new ToolRegistry(new RecordingSandbox(), new RecordingKnowledge()).For(Session, team, team.Agents[0], new RunKnowledge("owner", null, () => 1));

        var check = toolbox.Check("search_knowledge", arguments);

        Assert.Null(check.Function);
        Assert.Contains(correction, check.Correction, StringComparison.Ordinal);
        Assert.Contains("search_knowledge(query: string, top_k?: integer)", check.Correction, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_empty_query_is_the_agent_s_to_fix()
    {
        var team = RunLog.Team(SpeakerSelection.RoundRobin, null, "Assistant");
        var toolbox = new ToolRegistry(new RecordingSandbox(), new RecordingKnowledge()).For(Session, team, team.Agents[0], new RunKnowledge("owner", null, () => 1));

        var answer = await InvokeAsync(toolbox, "search_knowledge", """{"query":"  "}""");

        Assert.Equal(ToolOutcome.Error, answer.Outcome);
        Assert.StartsWith("error: Ask a question", answer.Text, StringComparison.Ordinal);
        Assert.Null(answer.Passages);
    }

    [Fact]
    public async Task A_tool_source_s_tools_are_offered_described_and_called_with_the_run_s_context()
    {
        var source = new RecordingSource();
        var registry = new ToolRegistry(new RecordingSandbox(), new RecordingKnowledge(), [source]);
        var team = RunLog.Team(SpeakerSelection.RoundRobin, null, "Researcher");
        var agent = team.Agents[0] with { Tools = ["list_files", "type_text"] };
        var run = Guid.NewGuid();

        var toolbox = registry.For(Session, team, agent, null, run, "owner-1");
        var answer = await InvokeAsync(toolbox, "type_text", """{"ref":"e3","text":"hello","submit":"true"}""");
        var corrected = toolbox.Check("type_text", """{"ref":"e3","text":"x","submit":"maybe"}""");

        Assert.Contains(registry.Available, t => t is { Name: "type_text", Source: "Test", DefaultPolicy: ToolPolicy.Ask });
        Assert.Contains("type_text", registry.NamesFor("owner-1"));
        Assert.Equal(["list_files()", "type_text(ref: string, text: string, submit?: boolean)"], toolbox.Signatures);
        Assert.Equal((ToolOutcome.Ok, "typed"), (answer.Outcome, answer.Text));
        Assert.Equal(["shots/1.png"], answer.Images);
        Assert.Equal($"type_text {Session} {run} owner-1 Researcher e3 hello True", Assert.Single(source.Calls));
        Assert.Contains("must be true or false", corrected.Correction, StringComparison.Ordinal);
    }

    /// <summary>A module's tools as the Agents module sees them: one described tool, calls recorded.</summary>
    private sealed class RecordingSource : IToolSource
    {
        public List<string> Calls { get; } = [];

        public IReadOnlyList<ToolDescriptor> ToolsFor(string ownerId) =>
        [
            new("type_text", "Types text into a field.",
                """{"type":"object","properties":{"ref":{"type":"string"},"text":{"type":"string"},"submit":{"type":"boolean"}},"required":["ref","text"]}""",
                ToolPolicy.Ask, "Test"),
        ];

        public Task<ToolResult> CallAsync(string tool, System.Text.Json.JsonElement arguments, ToolCallContext context, CancellationToken cancellationToken)
        {
            Calls.Add($"{tool} {context.SessionId} {context.RunId} {context.OwnerId} {context.Agent} {arguments.GetProperty("ref").GetString()} {arguments.GetProperty("text").GetString()} {arguments.GetProperty("submit").GetBoolean()}");
            return Task.FromResult(ToolResult.Ok("typed", "shots/1.png"));
        }
    }

    private static Task<ToolAnswer> InvokeAsync(AgentToolbox toolbox, string tool, string arguments)
    {
        var check = toolbox.Check(tool, arguments);
        return AgentToolbox.InvokeAsync(check.Function!, check.Arguments!, CancellationToken.None);
    }

    /// <summary>Two passages of terms.pdf for any query; an empty query is refused as the Knowledge module refuses it.</summary>
    private sealed class RecordingKnowledge : IKnowledgeTool
    {
        public List<string> Calls { get; } = [];

        public Task<bool> IsOfferedAsync(string ownerId, Guid sessionId, Guid? teamId, CancellationToken cancellationToken) => Task.FromResult(true);

        public Task<KnowledgeToolResult> SearchAsync(
            string ownerId, Guid sessionId, Guid? teamId, string query, int topK, int firstNumber, CancellationToken cancellationToken)
        {
            if (string.IsNullOrWhiteSpace(query))
            {
                throw new KnowledgeValidationException("query", "Ask a question or give keywords to search for.");
            }

            Calls.Add($"{ownerId} {query} {topK} from {firstNumber}");
            var document = Guid.NewGuid();
            KnowledgeHit[] hits =
            [
                new(document, "terms.pdf", Guid.Empty, 2, null, "The warranty lasts 24 months.", 0.5, [3]),
                new(document, "terms.pdf", Guid.Empty, 3, null, "Refunds take 14 days.", 0.4, [5]),
            ];
            return Task.FromResult(KnowledgePassages.ToToolResult(hits.Take(topK).ToList(), firstNumber));
        }
    }

    private sealed class RecordingSandbox : ISandboxTools
    {
        public List<string> Calls { get; } = [];

        public Task<SandboxToolAnswer> RunPythonWithOutputsAsync(Guid sessionId, string code, CancellationToken ct = default)
        {
            Calls.Add($"python {code}");
            return Task.FromResult(new SandboxToolAnswer("ok", false, ["outputs/a.png"]));
        }

        public Task<string> ListFilesAsync(Guid sessionId, CancellationToken ct = default) => Task.FromResult("The workspace is empty.");

        public Task<string> ReadFileAsync(Guid sessionId, string path, CancellationToken ct = default)
        {
            Calls.Add($"read {path}");
            return Task.FromResult($"error: '{path}' does not exist.");
        }

        public Task<string> WriteFileAsync(Guid sessionId, string path, string content, CancellationToken ct = default)
        {
            Calls.Add($"write {path} {content}");
            return Task.FromResult($"Wrote {path}.");
        }
    }
}
