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
internal sealed class McpToolSource(McpServerCatalog catalog, McpConnections connections, IMcpTools tools) : IToolSource
{
    public IReadOnlyList<ToolDescriptor> ToolsFor(string ownerId) =>
    [
        .. catalog.VisibleTo(ownerId)
            .Select(connections.Find)
            .OfType<McpConnection>()
            .SelectMany(c => c.Tools)
            .Select(t => new ToolDescriptor(t.Name, t.Description, t.InputSchema.GetRawText(), t.ReadOnly ? ToolPolicy.Auto : ToolPolicy.Ask, "MCP: " + t.Server)),
    ];

    public async Task<ToolResult> CallAsync(string tool, JsonElement arguments, ToolCallContext context, CancellationToken cancellationToken)
    {
        var result = await tools.CallAsync(context.OwnerId, tool, arguments, cancellationToken);
        return result.Failed ? ToolResult.Error(result.Text) : ToolResult.Ok(result.Text);
    }
}
