using Conclave.Identity.Accounts;
using Conclave.Identity.ApiAccess;
using Conclave.Identity.Contracts;
using Conclave.Identity.ExternalLogins;
using Conclave.Identity.OidcServer;
using Conclave.Identity.Store;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Conclave.Identity;

/// <summary>
/// The Identity module: accounts (ASP.NET Core Identity), the OpenID Connect server (OpenIddict), external
/// logins, the API's access policy and rate limits, and the installation's key ring, all stored in the
/// <c>identity</c> schema. Settings: <c>Conclave:Identity</c>, <c>Conclave:RateLimits</c>.
/// </summary>
public static class IdentityModule
{
    /// <summary>The PostgreSQL schema this module owns (users, OpenIddict's tables, the key ring, settings).</summary>
    public const string Schema = IdentityDb.Schema;

    public static IServiceCollection AddIdentityModule(this IServiceCollection services, IConfiguration configuration, IHostEnvironment environment)
    {
        var settings = configuration.GetSection(ConclaveIdentityOptions.Section).Get<ConclaveIdentityOptions>() ?? new ConclaveIdentityOptions();
        services.AddOptions<ConclaveIdentityOptions>().BindConfiguration(ConclaveIdentityOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        var development = environment.IsDevelopment() || environment.IsEnvironment("Testing");

        var connectionString = configuration.GetConnectionString("Conclave")
            ?? throw new InvalidOperationException("ConnectionStrings:Conclave is not set.");
        services.AddDbContext<IdentityDb>(options =>
        {
            options.UseNpgsql(connectionString, npgsql => npgsql.MigrationsHistoryTable("__ef_migrations", IdentityDb.Schema));
            options.UseOpenIddict();
        });
        // First of all hosted services: the key ring and OpenIddict read the schema it creates.
        services.Insert(0, ServiceDescriptor.Singleton<IHostedService, IdentityStore>());
        services.AddDataProtection().SetApplicationName(IKeyRing.ApplicationName).PersistKeysToDbContext<IdentityDb>();
        services.AddSingleton<IKeyRing, KeyRing>();

        // In this order: Identity sets its cookie as the default scheme, which API access then replaces.
        services.AddAccounts(development || settings.AllowHttp);
        services.AddApiAccess(configuration);
        services.AddExternalLogins(settings);
        services.AddOidcServer(settings, development);
        return services;
    }

    /// <summary>
    /// The guards, in order: how often anyone may try to sign in (before authentication: OpenIddict answers
    /// token requests with a bad secret or code inside it), who is calling, how often, may they, and the
    /// cookie's antiforgery check on the API.
    /// </summary>
    public static IApplicationBuilder UseIdentityModule(this IApplicationBuilder app)
    {
        app.Use(ConnectThrottle.GuardAsync);
        app.UseAuthentication();
        app.UseRateLimiter();
        app.UseAuthorization();
        app.Use(ApiRequests.RequireAntiforgeryForCookieCallsAsync);
        return app;
    }

    /// <summary>The OpenID Connect endpoints (<c>/connect/*</c>), log out and the external sign-in callbacks.</summary>
    public static IEndpointRouteBuilder MapIdentityModule(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapConnectEndpoints();
        endpoints.MapAccountEndpoints();
        endpoints.MapExternalLoginEndpoints();
        return endpoints;
    }
}
