using System.Text.Json;
using Conclave.Agents.Contracts;
using Conclave.McpTools.Connections;
using Conclave.McpTools.Contracts;

namespace Conclave.McpTools.Servers;

/// <summary>
/// MCP tools as agents get them: every tool of the connected servers a user sees, named <c>server__tool</c>,
/// asked before each call (<see cref="ToolPolicy.Ask"/>) unless an admin marked the server read-only. Calls go
/// through the agent's usual checks, loop breaker, output caps and metrics, then to the server's connection.
/// </summary>
internal sealed class McpToolSource(McpServerCatalog catalog, McpConnections connections, McpServerStore store) : IToolSource
{
    public IReadOnlyList<ToolDescriptor> ToolsFor(string ownerId) =>
    [
        .. catalog.VisibleTo(ownerId)
            .Where(s => s.SessionId is null)
            .Select(connections.Find)
            .OfType<McpConnection>()
            .SelectMany(c => c.Tools)
            .Select(Descriptor),
    ];

    /// <summary>The session's local servers: started in its sandbox (if not running) so their tools are known for this run.</summary>
    public async Task<IReadOnlyList<ToolDescriptor>> SessionToolsAsync(string ownerId, Guid sessionId, CancellationToken cancellationToken)
    {
        var tools = new List<ToolDescriptor>();
        foreach (var server in catalog.VisibleTo(ownerId).Where(s => s.SessionId == sessionId))
        {
            var connection = connections.For(server);
            await connection.EnsureConnectedAsync(cancellationToken);
            tools.AddRange(connection.Tools.Select(Descriptor));
        }

        return tools;
    }

    private static ToolDescriptor Descriptor(McpToolView t) =>
        new(t.Name, t.Description, t.InputSchema.GetRawText(), t.ReadOnly ? ToolPolicy.Auto : ToolPolicy.Ask, "MCP: " + t.Server);

    public async Task<ToolResult> CallAsync(string tool, JsonElement arguments, ToolCallContext context, CancellationToken cancellationToken)
    {
        var result = await store.CallAsync(context.OwnerId, context.SessionId, tool, arguments, cancellationToken);
        return result.Failed ? ToolResult.Error(result.Text) : ToolResult.Ok(result.Text);
    }
}
