using Conclave.Agents.Api;
using Conclave.Agents.Contracts;
using Conclave.Agents.Providers;
using Conclave.Agents.Secrets;
using Conclave.Agents.Teams;
using Marten;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Conclave.Agents;

/// <summary>The registration of users' teams and providers, called from <see cref="AgentsModule"/>.</summary>
internal static class TeamsAndProviders
{
    public static IServiceCollection AddTeamsAndProviders(this IServiceCollection services)
    {
        // Provider keys are encrypted with the Identity module's key ring (IKeyRing, from AddIdentityModule).
        services.AddSingleton<ISecretStore, DataProtectionSecretStore>();
        services.AddSingleton<IProviders, ProviderStore>();
        services.AddExceptionHandler<AgentsProblems>();
        return services;
    }

    public static StoreOptions ConfigureTeamsAndProviders(this StoreOptions options)
    {
        options.Schema.For<StoredTeam>().DatabaseSchemaName(AgentsModule.Schema).DocumentAlias("team").Index(t => t.OwnerId);
        options.Schema.For<StoredProvider>().DatabaseSchemaName(AgentsModule.Schema).DocumentAlias("provider").Index(p => p.OwnerId);
        return options;
    }

    public static IEndpointRouteBuilder MapTeamsAndProviders(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapTeamEndpoints();
        endpoints.MapProviderEndpoints();
        return endpoints;
    }
}
