using System.Text.Json;

namespace Conclave.Agents.Contracts;

/// <summary>
/// Tools another module gives agents (the Web module's browser now; MCP servers later), without the Agents
/// module knowing the module's internals. The tool registry takes every source registered in DI
/// (<c>IEnumerable&lt;IToolSource&gt;</c>): the tools appear in the team editor, are checked against their
/// JSON schema and listed in the agent's system prompt like the sandbox's, and calls come back here.
/// </summary>
public interface IToolSource
{
    /// <summary>The tools <paramref name="ownerId"/>'s agents may be given. A per-user source (MCP) answers from what it
    /// has cached for that user; names must be unique across sources (an MCP source namespaces them by server).</summary>
    IReadOnlyList<ToolDescriptor> ToolsFor(string ownerId);

    /// <summary>
    /// Runs one call whose arguments passed the tool's schema. Mistakes the agent can fix come back as a
    /// <see cref="ToolResult"/> with <see cref="ToolResult.Failed"/>, not as exceptions; cancellation throws.
    /// </summary>
    Task<ToolResult> CallAsync(string tool, JsonElement arguments, ToolCallContext context, CancellationToken cancellationToken);

    /// <summary>
    /// Tools of one session, offered to every agent of its runs besides their own (e.g. MCP servers running in the
    /// session's sandbox). Asked once when a run's execution starts, so a source may connect what they need here.
    /// </summary>
    Task<IReadOnlyList<ToolDescriptor>> SessionToolsAsync(string ownerId, Guid sessionId, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<ToolDescriptor>>([]);
}

/// <summary>One tool of a <see cref="IToolSource"/>.</summary>
/// <param name="Name">What the model calls (letters, digits, '_' and '-').</param>
/// <param name="ParametersSchema">A JSON object schema; properties are strings, integers or booleans.</param>
/// <param name="DefaultPolicy">What the team editor sets when the tool is given to an agent: <see cref="ToolPolicy.Ask"/> puts it in
/// <see cref="AgentDefinition.AskFirst"/> (MCP tools), <see cref="ToolPolicy.Auto"/> does not.</param>
/// <param name="Source">Where the tool comes from, for the editor ("Web", "MCP: github").</param>
public sealed record ToolDescriptor(string Name, string Description, string ParametersSchema, ToolPolicy DefaultPolicy, string Source);

/// <summary>Who is calling: the session (whose workspace and browser context a call uses), the run and its owner, the agent.</summary>
public sealed record ToolCallContext(Guid SessionId, Guid RunId, string OwnerId, string Agent);

/// <param name="Text">What the agent is told.</param>
/// <param name="Failed">The call did not do what was asked (shown as an error in the timeline).</param>
/// <param name="Images">Workspace-relative paths of images the call saved, shown inline in the timeline.</param>
public sealed record ToolResult(string Text, bool Failed, IReadOnlyList<string> Images)
{
    public static ToolResult Ok(string text, params IReadOnlyList<string> images) => new(text, false, images);

    public static ToolResult Error(string text) => new(text, true, []);
}
