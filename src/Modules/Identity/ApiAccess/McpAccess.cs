using System.Text.Encodings.Web;
using Conclave.Identity.Contracts;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ModelContextProtocol.AspNetCore.Authentication;
using ModelContextProtocol.Authentication;
using OpenIddict.Abstractions;
using OpenIddict.Validation.AspNetCore;

namespace Conclave.Identity.ApiAccess;

/// <summary>
/// Who may call the MCP server (ADR 0020), as the MCP authorization specification has it: only a bearer token
/// issued for it (audience = <see cref="McpResource.UriFor"/>, RFC 8707) with <see cref="ApiScopes.Write"/>.
/// A missing, invalid or foreign token is a 401 whose <c>WWW-Authenticate</c> names the protected-resource
/// metadata (RFC 9728), which names our OpenIddict server as the authorization server.
/// </summary>
internal static class McpAccess
{
    public const string Scheme = "McpBearer";

    public static IServiceCollection AddMcpAccess(this IServiceCollection services)
    {
        services.AddAuthentication()
            .AddScheme<AuthenticationSchemeOptions, McpTokenHandler>(Scheme, options =>
            {
                // The SDK's handler writes the challenge (401 + resource_metadata) and serves the metadata document.
                options.ForwardChallenge = McpAuthenticationDefaults.AuthenticationScheme;
            })
            // As AddMcp does, but with no display name: a named scheme is offered as an external login on the sign-in page.
            .AddScheme<McpAuthenticationOptions, McpAuthenticationHandler>(McpAuthenticationDefaults.AuthenticationScheme, displayName: null, options =>
            {
                options.ResourceMetadataUri = new Uri(McpResource.MetadataPath, UriKind.Relative);
                options.Events.OnResourceMetadataRequest = context =>
                {
                    context.ResourceMetadata = new ProtectedResourceMetadata
                    {
                        Resource = McpResource.UriFor(context.Request),
                        AuthorizationServers = [McpResource.IssuerFor(context.Request)],
                        ScopesSupported = [ApiScopes.Write],
                        BearerMethodsSupported = ["header"],
                        ResourceName = "Conclave",
                    };
                    return Task.CompletedTask;
                };
            });

        services.AddAuthorizationBuilder().AddPolicy(IdentityPolicies.Mcp, policy => policy
            .AddAuthenticationSchemes(Scheme)
            .RequireAuthenticatedUser()
            .RequireAssertion(context => context.User.HasScope(ApiScopes.Write)));
        return services;
    }
}

/// <summary>OpenIddict's validation of the token (signature, expiry, revocation), then the audience: this MCP server's.</summary>
internal sealed class McpTokenHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.HasBearerToken())
        {
            return AuthenticateResult.NoResult();
        }

        var validated = await Context.AuthenticateAsync(OpenIddictValidationAspNetCoreDefaults.AuthenticationScheme);
        if (!validated.Succeeded)
        {
            return validated.Failure is { } failure ? AuthenticateResult.Fail(failure) : AuthenticateResult.Fail("The access token is not valid.");
        }

        // A token for the REST API (no audience) or for another resource must not be replayed here (RFC 8707, MCP authorization).
        if (!validated.Principal.HasAudience(McpResource.UriFor(Request)))
        {
            return AuthenticateResult.Fail("The access token was not issued for this MCP server.");
        }

        return AuthenticateResult.Success(new AuthenticationTicket(validated.Principal, Scheme.Name));
    }

    /// <summary>A token for this server without <see cref="ApiScopes.Write"/>: 403 saying which scope to ask for (step-up, RFC 6750).</summary>
    protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        Response.Headers.WWWAuthenticate =
            $"Bearer error=\"insufficient_scope\", scope=\"{ApiScopes.Write}\", resource_metadata=\"{McpResource.MetadataUriFor(Request)}\"";
        return Task.CompletedTask;
    }
}
