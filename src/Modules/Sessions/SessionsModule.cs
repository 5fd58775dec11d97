using Conclave.Sessions.Contracts;
using Conclave.Sessions.Lifecycle;
using Conclave.Sessions.Live;
using Conclave.Sessions.Log;
using Conclave.Sessions.Messaging;
using Conclave.Sessions.RunControl;
using Conclave.Sessions.Runs;
using Conclave.Sessions.Telemetry;
using Conclave.Sessions.Usage;
using JasperFx.Events;
using JasperFx.Events.Projections;
using Marten;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Conclave.Sessions;

/// <summary>The Sessions module: session streams, the live feed and the session API.</summary>
public static class SessionsModule
{
    /// <summary>The PostgreSQL schema this module owns (events and its read models).</summary>
    public const string Schema = "sessions";

    public static IServiceCollection AddSessionsModule(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<SessionMetrics>();
        services.AddOptions<NodeOptions>().BindConfiguration(NodeOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<ThisNode>();
        // A stopping node gets the drain timeout to hand its runs on and let its live clients go.
        services.AddOptions<HostOptions>().Configure<IOptions<NodeOptions>>((host, node) => host.ShutdownTimeout = node.Value.DrainTimeout);
        services.AddSingleton<LiveHub>();
        services.AddSingleton<ITokenStream>(sp => sp.GetRequiredService<LiveHub>());
        services.AddSingleton<SessionChanges>();
        services.AddSingleton<ISessionChanges>(sp => sp.GetRequiredService<SessionChanges>());
        services.AddSingleton<SessionStream>();
        services.AddSingleton<SessionLog>();
        services.AddSingleton<ISessionLog>(sp => sp.GetRequiredService<SessionLog>());
        services.AddSingleton<ISessionFeed, SessionFeed>();
        services.AddSingleton<CommitListener>();
        services.AddHostedService(sp => sp.GetRequiredService<CommitListener>());
        services.AddHealthChecks().AddCheck<CommitListener>("live-feed", tags: ["ready"]);
        services.AddSingleton<OwnedSessions>();
        services.AddSingleton<ISessions, SessionUseCases>();
        services.AddSingleton<IUsageHistory, DailyUsageQuery>();
        services.AddScoped<IRunControl, RunControlUseCases>();
        services.AddOptions<RunLeaseOptions>().BindConfiguration(RunLeaseOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<RunLeases>();
        services.AddSingleton<IRunLeases>(sp => sp.GetRequiredService<RunLeases>());
        services.AddOptions<QuotaOptions>().BindConfiguration(QuotaOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<Quotas>();
        services.AddSingleton<IQuotas>(sp => sp.GetRequiredService<Quotas>());
        services.AddSingleton<RunReaper>();
        services.AddHostedService(sp => sp.GetRequiredService<RunReaper>());
        services.AddExceptionHandler<SessionProblems>();
        return services;
    }

    public static StoreOptions ConfigureSessions(this StoreOptions options)
    {
        options.Events.DatabaseSchemaName = Schema;
        // One round trip per append; versions are known anyway (appends carry the expected version).
        options.Events.AppendMode = EventAppendMode.Quick;
        foreach (var (name, type) in SessionEventTypes.ByName)
        {
            options.Events.MapEventType(type, name);
        }

        options.Schema.For<SessionSummary>().DatabaseSchemaName(Schema).Index(s => s.OwnerId);
        options.Projections.Add(new SessionSummaryProjection(), ProjectionLifecycle.Inline);
        options.Schema.For<RunSummary>().DatabaseSchemaName(Schema).Index(r => r.OwnerId).Index(r => r.SessionId);
        options.Projections.Add(new RunSummaryProjection(), ProjectionLifecycle.Inline);
        options.Schema.For<UserQuota>().DatabaseSchemaName(Schema);
        options.Schema.For<RunLease>().DatabaseSchemaName(Schema).UseOptimisticConcurrency(true).Index(l => l.HeartbeatAt);
        return options;
    }

    public static IEndpointRouteBuilder MapSessionsModule(this IEndpointRouteBuilder endpoints)
    {
        var sessions = endpoints.MapGroup("/api/v1/sessions").WithTags("Sessions").RequireAuthorization();
        sessions.MapSessionEndpoints();
        sessions.MapMessageEndpoints();
        sessions.MapEventEndpoints();
        sessions.MapRunEndpoints();
        endpoints.MapUsageEndpoints();
        return endpoints;
    }
}
