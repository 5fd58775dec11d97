using Conclave.Agents.Contracts;
using Conclave.Agents.Providers;
using Conclave.Agents.Runs;
using Conclave.Agents.Teams;
using Conclave.Agents.Telemetry;
using Conclave.Agents.Tools;
using Conclave.Egress;
using Conclave.Sessions.Contracts;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Wolverine;

namespace Conclave.Agents;

/// <summary>The Agents module: model providers and the run orchestrator.</summary>
public static class AgentsModule
{
    /// <summary>The durable local queue runs are executed from.</summary>
    public const string RunsQueue = "runs";

    /// <summary>The in-memory queue stop requests are handled from.</summary>
    public const string RunControlQueue = "run-control";

    public static IServiceCollection AddAgentsModule(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ModelProviderOptions>()
            .Bind(configuration.GetSection(ModelProviderOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        // Model calls go to users' endpoints: through the one egress policy (idempotent; the Host registers it too).
        services.AddEgressPolicy(configuration);
        services.AddSingleton<ModelEgress>();
        // Streams can last minutes; the idle timeout is enforced per read by the SDK's network timeout.
        services.AddHttpClient(ChatModels.HttpClientName, c => c.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(sp => sp.GetRequiredService<ModelEgress>().CreateHandler())
            .AddHttpMessageHandler(sp => new EventSizeLimit(sp.GetRequiredService<IOptions<ModelOutputOptions>>().Value.MaxEventBytes));
        services.AddOptions<ModelOutputOptions>()
            .Bind(configuration.GetSection(ModelOutputOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddOptions<ApprovalOptions>()
            .Bind(configuration.GetSection(ModelOutputOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddHttpClient(DefaultProviderProbe.HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(sp => sp.GetRequiredService<ModelEgress>().CreateHandler());
        services.AddSingleton<DefaultProviderProbe>();
        services.AddSingleton<IModelReachability>(sp => sp.GetRequiredService<DefaultProviderProbe>());
        services.AddHealthChecks().AddCheck<DefaultProviderProbe>("models", tags: ["ready"]);
        services.AddSingleton<ChatModels>();
        services.AddSingleton<ProviderResolver>();
        services.AddSingleton<ITeams, TeamStore>();
        services.AddTeamsAndProviders();
        services.AddSingleton<ActiveRuns>();
        services.AddHostedService<RunDrain>();
        services.AddSingleton<ToolRegistry>();
        services.AddSingleton<IAgentTools>(sp => sp.GetRequiredService<ToolRegistry>());
        services.AddOptions<AgentTelemetryOptions>().Configure(o => AgentTelemetryOptions.Bind(o, configuration));
        services.AddSingleton<AgentMetrics>();
        services.AddSingleton<ModelCall>();
        services.AddSingleton<AgentTurn>();
        services.AddSingleton<ToolCallStep>();
        services.AddSingleton<SpeakerSelector>();
        services.AddSingleton<RunLoop>();
        services.AddSingleton(sp => new RunOrchestrator(
            sp.GetRequiredService<ISessionLog>(),
            sp.GetRequiredService<IRunLeases>(),
            sp.GetRequiredService<ActiveRuns>(),
            sp.GetRequiredService<RunLoop>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<Microsoft.Extensions.Hosting.IHostApplicationLifetime>(),
            sp.GetRequiredService<AgentMetrics>(),
            sp.GetRequiredService<ILogger<RunOrchestrator>>()));
        return services;
    }

    /// <summary>The PostgreSQL schema this module owns (teams and providers).</summary>
    public const string Schema = "agents";

    public static Marten.StoreOptions ConfigureAgents(this Marten.StoreOptions options) => options.ConfigureTeamsAndProviders();

    /// <summary>The teams and providers API.</summary>
    public static Microsoft.AspNetCore.Routing.IEndpointRouteBuilder MapAgentsModule(this Microsoft.AspNetCore.Routing.IEndpointRouteBuilder endpoints) =>
        endpoints.MapTeamsAndProviders();

    public static WolverineOptions ConfigureAgents(this WolverineOptions options)
    {
        options.Discovery.IncludeAssembly(typeof(AgentsModule).Assembly);
        // Runs mostly wait on the network: many may execute at once on one node.
        options.LocalQueue(RunsQueue).UseDurableInbox().MaximumParallelMessages(64);
        // Stops must not wait behind runs: their own queue, in memory (a lost stop is clicked again).
        options.LocalQueue(RunControlQueue).BufferedInMemory().MaximumParallelMessages(8);
        return options;
    }
}
