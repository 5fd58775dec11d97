using Conclave.Agents.Contracts;
using Conclave.Egress;
using Conclave.McpTools.Api;
using Conclave.McpTools.Connections;
using Conclave.McpTools.Contracts;
using Conclave.McpTools.Servers;
using Marten;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Conclave.McpTools;

/// <summary>The MCP tools module: remote MCP servers registered by admins and users, kept connected, their tools offered to agents.</summary>
public static class McpToolsModule
{
    public const string Schema = "mcp";

    public static IServiceCollection AddMcpToolsModule(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<McpToolsOptions>()
            .Bind(configuration.GetSection(McpToolsOptions.Section))
            .ValidateDataAnnotations()
            .Validate(o => o.DefaultCallTimeout > TimeSpan.Zero && o.DefaultCallTimeout <= o.MaxCallTimeout, "Conclave:Mcp:DefaultCallTimeout must be positive and at most MaxCallTimeout.")
            .Validate(o => o.ConnectTimeout > TimeSpan.Zero && o.HealthInterval > TimeSpan.Zero, "Conclave:Mcp:ConnectTimeout and HealthInterval must be positive.")
            .Validate(o => o.Backoff > TimeSpan.Zero && o.Backoff <= o.MaxBackoff, "Conclave:Mcp:Backoff must be positive and at most MaxBackoff.")
            .ValidateOnStart();
        services.AddEgressPolicy(configuration);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<McpServerCatalog>();
        services.AddSingleton<McpConnections>();
        services.AddHostedService(sp => sp.GetRequiredService<McpConnections>());
        services.AddSingleton<McpServerStore>();
        services.AddSingleton<IMcpServers>(sp => sp.GetRequiredService<McpServerStore>());
        services.AddSingleton<IMcpTools>(sp => sp.GetRequiredService<McpServerStore>());
        services.AddSingleton<IToolSource, McpToolSource>();
        services.AddExceptionHandler<McpProblems>();
        return services;
    }

    public static StoreOptions ConfigureMcpTools(this StoreOptions options)
    {
        options.Schema.For<StoredMcpServer>().DatabaseSchemaName(Schema).DocumentAlias("server").Index(s => s.OwnerId);
        return options;
    }

    public static IEndpointRouteBuilder MapMcpToolsModule(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapMcpEndpoints();
        return endpoints;
    }
}
