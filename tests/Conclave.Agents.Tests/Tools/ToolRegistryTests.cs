using Conclave.Agents.Contracts;
using Conclave.Agents.Tests.Runs;
using Conclave.Agents.Tools;
using Conclave.Sandbox.Contracts;
using Conclave.Sessions.Contracts;

namespace Conclave.Agents.Tests.Tools;

/// <summary>Each tool is described once (the sandbox's catalogue); names, schemas, prompts and calls follow from it.</summary>
public sealed class ToolRegistryTests
{
    private static readonly Guid Session = Guid.NewGuid();

    [Fact]
    public void The_tools_an_agent_can_have_are_the_catalogue_s()
    {
        var registry = new ToolRegistry(new RecordingSandbox());

        Assert.Equal(SandboxToolCatalog.Tools.Select(t => t.Name), registry.Available.Select(t => t.Name));
        Assert.Equal(SandboxToolCatalog.Tools.Select(t => t.Name), ToolRegistry.Names);
    }

    [Fact]
    public void A_toolbox_has_exactly_the_agent_s_tools_with_their_described_parameters()
    {
        var agent = RunLog.Agent("Coder") with { Tools = ["write_file", "list_files"] };
        var toolbox = new ToolRegistry(new RecordingSandbox()).For(Session, RunLog.Team(SpeakerSelection.RoundRobin, null, "Coder"), agent);

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
        var toolbox = new ToolRegistry(sandbox).For(Session, RunLog.Team(SpeakerSelection.RoundRobin, null, "Coder"), agent);

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

        var toolbox = new ToolRegistry(new RecordingSandbox()).For(Session, team, team.Agents[0]);

        Assert.Equal(["transfer_to_Expert()", "transfer_to_Writer()"], toolbox.Signatures);
    }

    private static Task<ToolAnswer> InvokeAsync(AgentToolbox toolbox, string tool, string arguments)
    {
        var check = toolbox.Check(tool, arguments);
        return AgentToolbox.InvokeAsync(check.Function!, check.Arguments!, CancellationToken.None);
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
