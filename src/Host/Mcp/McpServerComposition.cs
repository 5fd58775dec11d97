using Conclave.Identity.Contracts;
using ModelContextProtocol.AspNetCore;

namespace Conclave.Host.Mcp;

/// <summary>
/// Conclave as an MCP server (ADR 0020): Streamable HTTP at <see cref="McpResource.Path"/>, stateless so any node
/// answers any request, for bearer tokens issued for it (the Identity module's <see cref="IdentityPolicies.Mcp"/>).
/// Its tools use the modules' Contracts as the REST API does, always as the caller.
/// </summary>
internal static class McpServerComposition
{
    public static IServiceCollection AddConclaveMcpServer(this IServiceCollection services)
    {
        services.AddHttpContextAccessor();
        services.AddMcpServer(options => options.ServerInfo = new() { Name = "Conclave", Version = "1.0" })
            .WithHttpTransport(transport => transport.SessionMode = HttpServerSessionMode.Stateless)
            .WithTools<RunTeamTool>()
            .WithTools<SearchKnowledgeTool>()
            .WithTools<ListSessionsTool>();
        return services;
    }

    public static IEndpointRouteBuilder MapConclaveMcpServer(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapMcp(McpResource.Path).RequireAuthorization(IdentityPolicies.Mcp).DisableAntiforgery().ExcludeFromDescription();
        return endpoints;
    }
}
