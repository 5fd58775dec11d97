using Conclave.Identity.Contracts;
using Conclave.Identity.Store;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Conclave.Identity.OidcServer;

/// <summary>
/// The OpenID Connect server (OpenIddict on <see cref="IdentityDb"/>): authorization code + PKCE (S256 only),
/// refresh tokens rotated without leeway, client credentials; the validation that bearer tokens get on the API.
/// </summary>
internal static class OidcServerConfiguration
{
    public static IServiceCollection AddOidcServer(this IServiceCollection services, ConclaveIdentityOptions settings, bool development)
    {
        services.AddScoped<IOidcClients, OidcClients>();
        services.AddOpenIddict()
            .AddCore(core => core.UseEntityFrameworkCore().UseDbContext<IdentityDb>())
            .AddServer(server =>
            {
                server.SetAuthorizationEndpointUris("connect/authorize")
                    .SetTokenEndpointUris("connect/token")
                    .SetRevocationEndpointUris("connect/revoke")
                    .SetUserInfoEndpointUris("connect/userinfo")
                    .SetEndSessionEndpointUris("connect/logout");
                server.AllowAuthorizationCodeFlow()
                    .RequireProofKeyForCodeExchange()
                    .AllowRefreshTokenFlow()
                    .AllowClientCredentialsFlow();
                server.RegisterScopes(Scopes.OpenId, Scopes.Profile, Scopes.Email, Scopes.Roles, Scopes.OfflineAccess, ApiScopes.Read, ApiScopes.Write);
                // The one resource (RFC 8707) tokens are bound to is the MCP server, whose URI is this installation's own
                // (derived from the request like the issuer): the connect endpoints check it, not a fixed registration.
                server.DisableResourceValidation().IgnoreResourcePermissions();
                server.SetAccessTokenLifetime(settings.AccessTokenLifetime)
                    .SetRefreshTokenLifetime(settings.RefreshTokenLifetime)
                    // Rotation without grace: a redeemed refresh token is dead at once (and its reuse revokes the chain).
                    .SetRefreshTokenReuseLeeway(TimeSpan.Zero);
                // S256 only: "plain" PKCE protects nothing against an intercepted code.
                server.Configure(options =>
                {
                    options.CodeChallengeMethods.Clear();
                    options.CodeChallengeMethods.Add(CodeChallengeMethods.Sha256);
                });
                var aspNetCore = server.UseAspNetCore()
                    .EnableAuthorizationEndpointPassthrough()
                    .EnableTokenEndpointPassthrough()
                    .EnableUserInfoEndpointPassthrough()
                    .EnableEndSessionEndpointPassthrough();
                if (settings.AllowHttp || development)
                {
                    aspNetCore.DisableTransportSecurityRequirement();
                }
            })
            .AddValidation(validation =>
            {
                validation.UseLocalServer();
                validation.UseAspNetCore();
                // Looks the token up on each request, so a revoked token stops working at once.
                validation.EnableTokenEntryValidation();
            });
        services.AddSingleton<IConfigureOptions<OpenIddictServerOptions>, ServerKeys>();
        return services;
    }
}
