using Conclave.Sandbox.Api;
using Conclave.Sandbox.Containers;
using Conclave.Sandbox.Contracts;
using Conclave.Sandbox.Lifecycle;
using Conclave.Sandbox.Nodes;
using Conclave.Sandbox.Telemetry;
using Conclave.Sandbox.Tools;
using Conclave.Sandbox.Workspaces;
using Marten;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Wolverine;
using Wolverine.Postgresql;
using Wolverine.Postgresql.Transport;

namespace Conclave.Sandbox;

/// <summary>The Sandbox module: untrusted Python in one locked-down container per session, and the session's files.</summary>
public static class SandboxModule
{
    /// <summary>The durable local queue the module's messages (session removals) are handled from.</summary>
    public const string Queue = "sandbox";

    /// <summary>The module's PostgreSQL schema: where sessions' sandboxes are placed among nodes, and which nodes are alive.</summary>
    public const string Schema = "sandbox";

    public static IServiceCollection AddSandboxModule(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<SandboxOptions>()
            .Bind(configuration.GetSection(SandboxOptions.Section))
            .PostConfigure<IServiceProvider>((options, provider) =>
            {
                var contentRoot = provider.GetService<IHostEnvironment>()?.ContentRootPath ?? Directory.GetCurrentDirectory();
                options.WorkspaceRoot = Path.GetFullPath(options.WorkspaceRoot is { Length: > 0 } root
                    ? Path.Combine(contentRoot, root)
                    : DefaultWorkspaceRoot());
                options.SeccompProfile = Path.GetFullPath(options.SeccompProfile is { Length: > 0 } profile
                    ? Path.Combine(contentRoot, profile)
                    : Path.Combine(AppContext.BaseDirectory, "sandbox", "seccomp.json"));
            })
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<SandboxOptions>, SandboxOptionsValidator>();

        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.AddSingleton<SandboxMetrics>();
        // One node alone holds every session; AddSandboxNodes puts the placements in its place.
        services.TryAddSingleton<IMountLease, SoleNodeLease>();
        services.AddSingleton<WorkspaceVolumes>();
        services.AddSingleton<SandboxStatus>();
        services.AddSingleton<ISandboxStatus>(sp => sp.GetRequiredService<SandboxStatus>());
        services.AddHealthChecks().AddCheck<SandboxStatus>("sandbox", tags: ["ready"]);
        services.AddSingleton<SandboxContainers>();
        services.AddSingleton<WarmPool>();
        services.AddSingleton<SessionSandboxes>();
        services.AddSingleton<ISandbox>(sp => sp.GetRequiredService<SessionSandboxes>());
        services.AddSingleton<ISandboxProcesses>(sp => sp.GetRequiredService<SessionSandboxes>());
        services.AddSingleton<IWorkspace, WorkspaceFiles>();
        services.AddSingleton<ISandboxTools, SandboxTools>();
        services.AddSingleton<SandboxJanitor>();
        services.AddHostedService(sp => sp.GetRequiredService<SandboxJanitor>());
        services.AddSingleton<MultipartUpload>();
        // The Host puts the Knowledge module's intake in its place.
        services.TryAddSingleton<IDocumentIntake, NoDocumentIntake>();
        services.AddExceptionHandler<SandboxProblems>();
        return services;
    }

    /// <summary>
    /// Several nodes on one database (ADR 0015): a session's sandbox lives on one node, placed in the database, and
    /// the other nodes send it their calls over its PostgreSQL queue. Needs Marten (<see cref="ConfigureSandbox(StoreOptions)"/>)
    /// and Wolverine (<see cref="ConfigureSandbox(WolverineOptions, IConfiguration)"/>); without it a node's sandboxes are its own.
    /// </summary>
    public static IServiceCollection AddSandboxNodes(this IServiceCollection services)
    {
        services.AddSingleton<SandboxPlacements>();
        // The placement is the mount lease: only the node holding a session mounts its workspace.
        services.Replace(ServiceDescriptor.Singleton<IMountLease>(sp => sp.GetRequiredService<SandboxPlacements>()));
        services.AddSingleton<HeldSessions>();
        services.AddSingleton(sp => new SandboxRelay(
            sp.GetRequiredService<SessionSandboxes>(),
            sp.GetRequiredService<SandboxPlacements>(),
            sp.GetRequiredService<HeldSessions>(),
            sp.GetRequiredService<IServiceScopeFactory>(),
            sp.GetRequiredService<IOptions<SandboxOptions>>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<SandboxRelay>>()));
        services.AddSingleton<RoutedSandbox>();
        services.Replace(ServiceDescriptor.Singleton<ISandbox>(sp => sp.GetRequiredService<RoutedSandbox>()));
        services.Replace(ServiceDescriptor.Singleton<ISandboxProcesses>(sp => sp.GetRequiredService<RoutedSandbox>()));
        services.AddHostedService<NodeHeartbeat>();
        services.AddHostedService<DeadNodeSweep>();
        return services;
    }

    public static StoreOptions ConfigureSandbox(this StoreOptions options)
    {
        options.Schema.For<SandboxPlacement>().DatabaseSchemaName(Schema).DocumentAlias("placement")
            .UseOptimisticConcurrency(true).Index(p => p.NodeId);
        options.Schema.For<SandboxNode>().DatabaseSchemaName(Schema).DocumentAlias("node");
        return options;
    }

    /// <summary>Outside any content or web root (ASP.NET Core's file watchers walk those): the system's data folder.</summary>
    private static string DefaultWorkspaceRoot()
    {
        if (Environment.UserName == "root" || Environment.GetEnvironmentVariable("USER") == "root")
        {
            return "/var/lib/conclave/workspaces";
        }
        var data = Environment.GetEnvironmentVariable("XDG_DATA_HOME") is { Length: > 0 } xdg
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share");
        return Path.Combine(data, "conclave", "workspaces");
    }

    public static WolverineOptions ConfigureSandbox(this WolverineOptions options, IConfiguration configuration)
    {
        options.Discovery.IncludeAssembly(typeof(SandboxModule).Assembly);
        options.LocalQueue(Queue).UseDurableInbox();

        // This node's queue for calls to the sandboxes it holds and answers to its own calls. Buffered, not durable:
        // a call lost with its node is answered by the caller's timeout, while a call kept for a node that comes back
        // later would run code nobody waits for any more. Many at once: a long execution must not hold up an interrupt.
        var nodeId = configuration[$"{SandboxOptions.Section}:{nameof(SandboxOptions.NodeId)}"] is { Length: > 0 } id ? id : new SandboxOptions().NodeId;
        options.ListenToPostgresqlQueue(NodeQueue.Name(nodeId)).BufferedInMemory().MaximumParallelMessages(32);
        // Woken by NOTIFY instead of waiting for the next poll: a tool call should not wait seconds per hop.
        options.Transports.GetOrCreate<PostgresqlTransport>().EnableQueueNotifications = true;
        return options;
    }

    /// <summary>The session files API: /api/v1/sessions/{sessionId}/files.</summary>
    public static IEndpointRouteBuilder MapSandboxModule(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapFileEndpoints();
        return endpoints;
    }
}
