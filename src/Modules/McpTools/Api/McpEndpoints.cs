using System.Security.Claims;
using Conclave.Identity.Contracts;
using Conclave.McpTools.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Conclave.McpTools.Api;

/// <summary>MCP servers as tool sources, under /api/v1/mcp/servers.</summary>
internal static class McpEndpoints
{
    public static void MapMcpEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var servers = endpoints.MapGroup("/api/v1/mcp/servers").WithTags("MCP servers").RequireAuthorization()
            .ProducesProblem(StatusCodes.Status404NotFound);

        servers.MapGet("", (ClaimsPrincipal user, IMcpServers mcp, CancellationToken ct) => mcp.ListAsync(Owners.IdOf(user), ct))
            .WithName("ListMcpServers")
            .WithSummary("The MCP servers the caller's agents can use (everyone's and their own), with each connection's state, last error and tools.");
        servers.MapPost("", async Task<Created<McpServerView>> (McpServerRequest body, ClaimsPrincipal user, IMcpServers mcp, CancellationToken ct) =>
            {
                var view = await mcp.RegisterAsync(Owners.IdOf(user), user.IsInRole(ConclaveRoles.Admin), body, ct);
                return TypedResults.Created($"/api/v1/mcp/servers/{view.Id}", view);
            })
            .WithName("RegisterMcpServer")
            .WithSummary("Register a remote MCP server (Streamable HTTP or SSE). Its URL must pass the egress policy; header values are stored encrypted and never returned. Global and read-only servers are for admins.")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status403Forbidden);
        servers.MapPost("/{serverId:guid}/reconnect", (Guid serverId, ClaimsPrincipal user, IMcpServers mcp, CancellationToken ct) =>
                mcp.ReconnectAsync(Owners.IdOf(user), serverId, ct))
            .WithName("ReconnectMcpServer").WithSummary("Connect to the server again now and read its tools afresh.");
        servers.MapDelete("/{serverId:guid}", async (Guid serverId, ClaimsPrincipal user, IMcpServers mcp, CancellationToken ct) =>
            {
                await mcp.RemoveAsync(Owners.IdOf(user), user.IsInRole(ConclaveRoles.Admin), serverId, ct);
                return TypedResults.NoContent();
            })
            .WithName("RemoveMcpServer").WithSummary("Remove a server; a global one only by an admin.")
            .ProducesProblem(StatusCodes.Status403Forbidden);
    }
}
