using Conclave.Identity.Contracts;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.Validation.AspNetCore;

namespace Conclave.Identity.ApiAccess;

/// <summary>Who is calling (bearer token or the UI's cookie), what they may do, and how often.</summary>
internal static class ApiAccessConfiguration
{
    /// <summary>The default scheme: the bearer token when the request has one, else the UI's cookie.</summary>
    public const string Scheme = "Conclave";

    public static IServiceCollection AddApiAccess(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddAuthentication(options =>
            {
                options.DefaultScheme = Scheme;
                options.DefaultAuthenticateScheme = Scheme;
                options.DefaultChallengeScheme = Scheme;
                options.DefaultForbidScheme = Scheme;
            })
            .AddPolicyScheme(Scheme, displayName: null, options => options.ForwardDefaultSelector = context =>
                context.Request.HasBearerToken()
                    ? OpenIddictValidationAspNetCoreDefaults.AuthenticationScheme
                    : IdentityConstants.ApplicationScheme);

        services.AddSingleton<IAuthorizationHandler, ApiScopeHandler>();
        var signedIn = new AuthorizationPolicyBuilder(Scheme).RequireAuthenticatedUser().Build();
        services.AddAuthorizationBuilder()
            .SetDefaultPolicy(signedIn)
            // Every endpoint needs a signed-in user unless it says [AllowAnonymous] (sign-in pages, OIDC endpoints, health).
            .SetFallbackPolicy(signedIn)
            .AddPolicy(IdentityPolicies.Api, policy => policy.AddAuthenticationSchemes(Scheme).RequireAuthenticatedUser().AddRequirements(new ApiScopeRequirement()))
            .AddPolicy(IdentityPolicies.Admin, policy => policy.AddAuthenticationSchemes(Scheme).RequireRole(ConclaveRoles.Admin));

        services.AddMcpAccess();
        services.AddApiRateLimits(configuration);
        return services;
    }
}
