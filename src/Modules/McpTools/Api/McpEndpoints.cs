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

        var local = endpoints.MapGroup("/api/v1/sessions/{sessionId:guid}/mcp-servers").WithTags("MCP servers").RequireAuthorization()
            .ProducesProblem(StatusCodes.Status404NotFound);
        local.MapGet("", (Guid sessionId, ClaimsPrincipal user, IMcpServers mcp, CancellationToken ct) => mcp.ListForSessionAsync(Owners.IdOf(user), sessionId, ct))
            .WithName("ListSessionMcpServers").WithSummary("The session's local MCP servers (programs in its sandbox) with their state and tools.");
        local.MapPost("", async Task<Created<McpServerView>> (Guid sessionId, McpSessionServerRequest body, ClaimsPrincipal user, IMcpServers mcp, CancellationToken ct) =>
            {
                var view = await mcp.RegisterForSessionAsync(Owners.IdOf(user), sessionId, body, ct);
                return TypedResults.Created($"/api/v1/mcp/servers/{view.Id}", view);
            })
            .WithName("RegisterSessionMcpServer")
            .WithSummary("Register a local MCP server for the session: a program (e.g. [\"python3\", \"tools/server.py\"]) run in the session's sandbox, never on the Host, speaking MCP over stdin/stdout. Its tools are offered to every agent of the session's runs and ask before each call. Remove it with DELETE /api/v1/mcp/servers/{id}.")
            .ProducesProblem(StatusCodes.Status400BadRequest);
    }
}
