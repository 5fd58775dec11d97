using System.Text.Json;
using Conclave.Agents.Contracts;
using Conclave.Knowledge.Contracts;
using Conclave.Sandbox.Contracts;
using Conclave.Sessions.Contracts;
using Microsoft.Extensions.Logging;
using Microsoft.SemanticKernel;

namespace Conclave.Agents.Tools;

/// <summary>What a tool call gave back: the text for the agent, and what the timeline shows.</summary>
/// <param name="Passages">The numbered passages of a <c>search_knowledge</c> call (kept with its result); null for other tools.</param>
internal sealed record ToolAnswer(string Text, ToolOutcome Outcome, IReadOnlyList<string> Images, IReadOnlyList<Citation>? Passages = null)
{
    public static ToolAnswer Ok(string text) => new(text, ToolOutcome.Ok, []);
}

/// <summary>
/// The knowledge a run searches with <c>search_knowledge</c>: the owner's, through the run's team, and
/// where the passage numbers go on (<paramref name="NextNumber"/> is read at each call).
/// </summary>
/// <summary>A tool of the run's session (an MCP server in its sandbox), with the source that runs it.</summary>
internal sealed record SessionTool(IToolSource Source, ToolDescriptor Tool);

internal sealed record RunKnowledge(string OwnerId, Guid? TeamId, Func<int> NextNumber);

/// <summary>
/// The tools agents can have, as Semantic Kernel functions built from each tool's one description:
/// the sandbox's (<see cref="SandboxToolCatalog"/>, chosen per agent), <c>search_knowledge</c>
/// (<see cref="KnowledgeToolDefinition"/>, offered to every agent of a run whose session or team has
/// knowledge), those of other modules' <see cref="IToolSource"/>s (chosen per agent, like the sandbox's)
/// and, in handoff teams, <c>transfer_to_&lt;agent&gt;</c>. One toolbox per agent and run, holding exactly
/// the agent's tools.
/// </summary>
internal sealed class ToolRegistry(
    ISandboxTools sandbox, IKnowledgeTool knowledge, IEnumerable<IToolSource>? sources = null, ILogger<ToolRegistry>? logger = null) : IAgentTools
{
    private readonly IReadOnlyList<IToolSource> _sources = [.. sources ?? []];

    /// <summary>The tools an agent can be given, in catalogue order.</summary>
    public static IReadOnlyList<SandboxTool> Catalog => SandboxToolCatalog.Tools;

    public static IReadOnlyList<string> Names { get; } = [.. Catalog.Select(t => t.Name)];

    /// <summary>search_knowledge's parameters, read from the JSON schema the Knowledge module describes it with.</summary>
    private static readonly IReadOnlyList<KernelParameterMetadata> KnowledgeParameters = ParametersOf(KnowledgeToolDefinition.ParametersSchema);

    /// <summary>The sandbox's tools, then those sources offer to everyone (asked with no owner).</summary>
    public IReadOnlyList<AgentTool> Available => AvailableTo("");

    public IReadOnlyList<AgentTool> AvailableTo(string ownerId) =>
    [
        .. Catalog.Select(t => new AgentTool(t.Name, t.Description)),
        .. SourceTools(ownerId).Select(t => new AgentTool(t.Tool.Name, t.Tool.Description, t.Tool.Source, t.Tool.DefaultPolicy)),
    ];

    /// <summary>The names an agent of <paramref name="ownerId"/> may be given, for validating a team.</summary>
    public IReadOnlySet<string> NamesFor(string ownerId) => AvailableTo(ownerId).Select(t => t.Name).ToHashSet(StringComparer.Ordinal);

    /// <summary>The tools of a session every agent of its runs gets (its sources' <see cref="IToolSource.SessionToolsAsync"/>); a source that fails is left out.</summary>
    public async Task<IReadOnlyList<SessionTool>> SessionToolsAsync(string ownerId, Guid sessionId, CancellationToken cancellationToken)
    {
        var found = new List<SessionTool>();
        foreach (var source in _sources)
        {
            try
            {
                found.AddRange((await source.SessionToolsAsync(ownerId, sessionId, cancellationToken)).Select(t => new SessionTool(source, t)));
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                logger?.LogWarning("The session tools of {Source} for session {SessionId} are left out: {Error}", source.GetType().Name, sessionId, e.Message);
            }
        }

        return [.. found.Where(t => Catalog.All(c => c.Name != t.Tool.Name)).DistinctBy(t => t.Tool.Name, StringComparer.Ordinal)];
    }

    /// <param name="knowledge">Set when the run's session or team has knowledge: the agent is offered <c>search_knowledge</c>.</param>
    /// <param name="runId">The run, passed to source tools' calls with <paramref name="ownerId"/>.</param>
    /// <param name="ownerId">The run's owner: whose source tools the agent may have.</param>
    /// <param name="sessionTools">The session's own tools (<see cref="SessionToolsAsync"/>), given to every agent.</param>
    public AgentToolbox For(
        Guid sessionId, TeamDefinition team, AgentDefinition agent, RunKnowledge? knowledge = null, Guid runId = default, string ownerId = "",
        IReadOnlyList<SessionTool>? sessionTools = null)
    {
        var functions = new List<KernelFunction>();
        var sourced = agent.Tools.Any(t => Catalog.All(c => c.Name != t)) ? SourceTools(ownerId) : [];
        foreach (var name in agent.Tools.Distinct(StringComparer.Ordinal))
        {
            if (Catalog.FirstOrDefault(t => t.Name == name) is { } tool)
            {
                functions.Add(SandboxFunction(sessionId, tool));
            }
            else if (sourced.FirstOrDefault(t => t.Tool.Name == name) is { Source: not null } found)
            {
                functions.Add(SourceFunction(found.Source, found.Tool, new ToolCallContext(sessionId, runId, ownerId, agent.Name)));
            }

            // A tool its source no longer offers (an MCP server removed since the team was saved) is left out:
            // the prompt lists what exists, and a call of it gets the unknown tool's correction.
        }

        foreach (var (source, tool) in sessionTools ?? [])
        {
            if (functions.All(f => f.Name != tool.Name))
            {
                functions.Add(SourceFunction(source, tool, new ToolCallContext(sessionId, runId, ownerId, agent.Name)));
            }
        }

        if (knowledge is not null)
        {
            functions.Add(KnowledgeFunction(sessionId, knowledge));
        }

        if (team.Selection == SpeakerSelection.Handoff)
        {
            foreach (var other in team.Agents.Where(a => a.Name != agent.Name))
            {
                functions.Add(TransferFunction(other));
            }
        }

        return new AgentToolbox(functions, knowledge is null ? [] : [KnowledgeToolDefinition.CitationInstructions]);
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

    private List<(IToolSource Source, ToolDescriptor Tool)> SourceTools(string ownerId) =>
    [
        .. _sources.SelectMany(source => source.ToolsFor(ownerId).Select(tool => (source, tool)))
            .Where(t => Catalog.All(c => c.Name != t.tool.Name))
            .DistinctBy(t => t.tool.Name, StringComparer.Ordinal),
    ];

    private static KernelFunction SourceFunction(IToolSource source, ToolDescriptor tool, ToolCallContext context) =>
        KernelFunctionFactory.CreateFromMethod(
            async (KernelArguments arguments, CancellationToken ct) =>
            {
                var json = JsonSerializer.SerializeToElement(arguments.ToDictionary(a => a.Key, a => a.Value));
                var result = await source.CallAsync(tool.Name, json, context, ct);
                return new ToolAnswer(result.Text, result.Failed ? ToolOutcome.Error : ToolOutcome.Ok, result.Images);
            },
            tool.Name,
            tool.Description,
            ParametersOf(tool.ParametersSchema));

    private KernelFunction KnowledgeFunction(Guid sessionId, RunKnowledge scope) =>
        KernelFunctionFactory.CreateFromMethod(
            async (KernelArguments arguments, CancellationToken ct) =>
            {
                var query = arguments.TryGetValue("query", out var q) ? q as string ?? "" : "";
                var topK = arguments.TryGetValue("top_k", out var k) && k is int n ? n : KnowledgeToolDefinition.DefaultTopK;
                try
                {
                    var result = await knowledge.SearchAsync(scope.OwnerId, sessionId, scope.TeamId, query, topK, scope.NextNumber(), ct);
                    return new ToolAnswer(result.Text, ToolOutcome.Ok, [], [.. result.Citations.Select(Cited)]);
                }
                catch (KnowledgeValidationException e)
                {
                    // An empty or over-long query: the agent's to fix.
                    return new ToolAnswer($"error: {e.Message}", ToolOutcome.Error, []);
                }
            },
            KnowledgeToolDefinition.Name,
            KnowledgeToolDefinition.Description,
            KnowledgeParameters);

    private static Citation Cited(KnowledgeCitation c) => new(c.Number, c.DocumentId, c.DocumentName, c.Page, c.Heading, c.Passage);

    private static KernelFunction TransferFunction(AgentDefinition to) =>
        KernelFunctionFactory.CreateFromMethod(
            () => ToolAnswer.Ok($"Transferred to {to.Name}."),
            ToolNames.TransferPrefix + to.Name,
            $"Hand the conversation over to {to.Name} ({to.Role}).",
            []);

    /// <summary>The parameters of an object schema: name, description, string, integer or boolean, required, and each one's own schema (bounds, default).</summary>
    private static IReadOnlyList<KernelParameterMetadata> ParametersOf(string schema)
    {
        using var document = JsonDocument.Parse(schema);
        var root = document.RootElement;
        var required = root.TryGetProperty("required", out var names) && names.ValueKind == JsonValueKind.Array
            ? names.EnumerateArray().Where(n => n.ValueKind == JsonValueKind.String).Select(n => n.GetString()).ToHashSet()
            : [];
        if (!root.TryGetProperty("properties", out var properties) || properties.ValueKind != JsonValueKind.Object)
        {
            return [];
        }

        return
        [
            .. properties.EnumerateObject().Select(p => new KernelParameterMetadata(p.Name)
            {
                Description = p.Value.ValueKind == JsonValueKind.Object && p.Value.TryGetProperty("description", out var description) && description.ValueKind == JsonValueKind.String
                    ? description.GetString()
                    : null,
                ParameterType = (p.Value.ValueKind == JsonValueKind.Object && p.Value.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String ? type.GetString() : null) switch
                {
                    "string" => typeof(string),
                    "integer" => typeof(int),
                    "boolean" => typeof(bool),
                    "number" => typeof(double),
                    // Arrays, objects, unions and schemas without a type (MCP servers' tools): any JSON value, passed on as it came.
                    _ => typeof(JsonElement),
                },
                IsRequired = required.Contains(p.Name),
                Schema = SchemaOf(p.Value),
            }),
        ];
    }

    /// <summary>A parameter's own schema for the model, or none when it is not one Semantic Kernel reads (a server's tool may send anything).</summary>
    private static KernelJsonSchema? SchemaOf(JsonElement schema)
    {
        try
        {
            return KernelJsonSchema.Parse(schema.GetRawText());
        }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }
}
