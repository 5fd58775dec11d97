using Conclave.Sandbox.Api;
using Conclave.Sandbox.Containers;
using Conclave.Sandbox.Contracts;
using Conclave.Sandbox.Lifecycle;
using Conclave.Sandbox.Telemetry;
using Conclave.Sandbox.Tools;
using Conclave.Sandbox.Workspaces;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Wolverine;

namespace Conclave.Sandbox;

/// <summary>The Sandbox module: untrusted Python in one locked-down container per session, and the session's files.</summary>
public static class SandboxModule
{
    /// <summary>The durable local queue the module's messages (session removals) are handled from.</summary>
    public const string Queue = "sandbox";

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

    public static WolverineOptions ConfigureSandbox(this WolverineOptions options)
    {
        options.Discovery.IncludeAssembly(typeof(SandboxModule).Assembly);
        options.LocalQueue(Queue).UseDurableInbox();
        return options;
    }

    /// <summary>The session files API: /api/v1/sessions/{sessionId}/files.</summary>
    public static IEndpointRouteBuilder MapSandboxModule(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapFileEndpoints();
        return endpoints;
    }
}
