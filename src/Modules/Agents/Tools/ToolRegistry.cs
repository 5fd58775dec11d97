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
/// The tools agents can have, as Semantic Kernel functions built from each tool's one description
/// (<see cref="SandboxToolCatalog"/>): the sandbox's and, in handoff teams, <c>transfer_to_&lt;agent&gt;</c>.
/// One toolbox per agent and session, holding exactly the agent's tools.
/// </summary>
internal sealed class ToolRegistry(ISandboxTools sandbox) : IAgentTools
{
    /// <summary>The tools an agent can be given, in catalogue order.</summary>
    public static IReadOnlyList<SandboxTool> Catalog => SandboxToolCatalog.Tools;

    public static IReadOnlyList<string> Names { get; } = [.. Catalog.Select(t => t.Name)];

    public IReadOnlyList<AgentTool> Available { get; } = [.. Catalog.Select(t => new AgentTool(t.Name, t.Description))];

    public AgentToolbox For(Guid sessionId, TeamDefinition team, AgentDefinition agent)
    {
        var functions = new List<KernelFunction>();
        foreach (var name in agent.Tools.Distinct(StringComparer.Ordinal))
        {
            var tool = Catalog.FirstOrDefault(t => t.Name == name) ?? throw new InvalidOperationException($"'{name}' is not a sandbox tool.");
            functions.Add(SandboxFunction(sessionId, tool));
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

    private KernelFunction SandboxFunction(Guid sessionId, SandboxTool tool) =>
        KernelFunctionFactory.CreateFromMethod(
            async (KernelArguments arguments, CancellationToken ct) =>
            {
                var byName = tool.Parameters.ToDictionary(p => p.Name, p => arguments[p.Name] as string ?? "");
                var answer = await tool.Call(sandbox, sessionId, byName, ct);
                return new ToolAnswer(answer.Text, answer.Failed ? ToolOutcome.Error : ToolOutcome.Ok, answer.Images);
            },
            tool.Name,
            tool.Description,
            tool.Parameters.Select(p => new KernelParameterMetadata(p.Name)
            {
                Description = p.Description,
                ParameterType = typeof(string),
                IsRequired = true,
            }));

    private static KernelFunction TransferFunction(AgentDefinition to) =>
        KernelFunctionFactory.CreateFromMethod(
            () => ToolAnswer.Ok($"Transferred to {to.Name}."),
            ToolNames.TransferPrefix + to.Name,
            $"Hand the conversation over to {to.Name} ({to.Role}).",
            []);
}
