using Conclave.Agents.Contracts;
using Conclave.Sandbox.Contracts;
using Conclave.Sessions.Contracts;
using Microsoft.SemanticKernel;

namespace Conclave.Agents.Tools;

/// <summary>What a tool call gave back: the text for the agent, and what the timeline shows.</summary>
internal sealed record ToolAnswer(string Text, ToolOutcome Outcome, IReadOnlyList<string> Images)
{
    public static ToolAnswer Ok(string text) => new(text, ToolOutcome.Ok, []);
}

/// <summary>
/// The tools agents can have, as Semantic Kernel functions: the sandbox's (run_python and the
/// workspace files) and, in handoff teams, <c>transfer_to_&lt;agent&gt;</c>. One toolbox per agent and
/// session, holding exactly the agent's tools.
/// </summary>
internal sealed class ToolRegistry(ISandboxTools sandbox)
{
    public AgentToolbox For(Guid sessionId, TeamDefinition team, AgentDefinition agent)
    {
        var functions = new List<KernelFunction>();
        foreach (var name in agent.Tools.Distinct(StringComparer.Ordinal))
        {
            functions.Add(SandboxFunction(sessionId, name));
        }

        if (team.Selection == SpeakerSelection.Handoff)
        {
            foreach (var other in team.Agents.Where(a => a.Name != agent.Name))
            {
                functions.Add(TransferFunction(other));
            }
        }

        return new AgentToolbox(functions);
    }

    private KernelFunction SandboxFunction(Guid sessionId, string name)
    {
        var spec = SandboxToolCatalog.Tools.FirstOrDefault(t => t.Name == name)
            ?? throw new InvalidOperationException($"'{name}' is not a sandbox tool.");
        Delegate body = name switch
        {
            ToolNames.RunPython => async (string code, CancellationToken ct) =>
            {
                var answer = await sandbox.RunPythonWithOutputsAsync(sessionId, code, ct);
                return new ToolAnswer(answer.Text, answer.Failed ? ToolOutcome.Error : ToolOutcome.Ok, answer.Images);
            },
            ToolNames.ListFiles => async (CancellationToken ct) => FromText(await sandbox.ListFilesAsync(sessionId, ct)),
            ToolNames.ReadFile => async (string path, CancellationToken ct) => FromText(await sandbox.ReadFileAsync(sessionId, path, ct)),
            ToolNames.WriteFile => async (string path, string content, CancellationToken ct) =>
                FromText(await sandbox.WriteFileAsync(sessionId, path, content, ct)),
            _ => throw new InvalidOperationException($"'{name}' has no implementation."),
        };
        return KernelFunctionFactory.CreateFromMethod(
            body,
            name,
            spec.Description,
            spec.Parameters.Select(p => new KernelParameterMetadata(p.Name)
            {
                Description = p.Description,
                ParameterType = typeof(string),
                IsRequired = true,
            }));
    }

    private static KernelFunction TransferFunction(AgentDefinition to) =>
        KernelFunctionFactory.CreateFromMethod(
            () => ToolAnswer.Ok($"Transferred to {to.Name}."),
            ToolNames.TransferPrefix + to.Name,
            $"Hand the conversation over to {to.Name} ({to.Role}).",
            []);

    /// <summary>The sandbox tools answer mistakes as text starting with "error:"; they are the agent's to fix.</summary>
    private static ToolAnswer FromText(string text) =>
        new(text, text.StartsWith("error:", StringComparison.Ordinal) ? ToolOutcome.Error : ToolOutcome.Ok, []);
}
