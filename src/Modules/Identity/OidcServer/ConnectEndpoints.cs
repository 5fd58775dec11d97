using System.Security.Claims;
using Conclave.Identity.Contracts;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Primitives;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Conclave.Identity.OidcServer;

/// <summary>
/// The OpenID Connect endpoints OpenIddict passes through to us once it validated the request:
/// authorize (issues the code to the user signed in with the cookie), token, userinfo and logout.
/// </summary>
internal static class ConnectEndpoints
{
    public static IEndpointRouteBuilder MapConnectEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var connect = endpoints.MapGroup("/connect").AllowAnonymous().ExcludeFromDescription().DisableAntiforgery();
        connect.MapMethods("/authorize", [HttpMethods.Get, HttpMethods.Post], AuthorizeAsync);
        connect.MapPost("/token", TokenAsync);
        connect.MapMethods("/userinfo", [HttpMethods.Get, HttpMethods.Post], UserInfoAsync);
        // GET and POST as OpenID Connect's RP-initiated logout allows; only a POST with our antiforgery token signs out.
        connect.MapMethods("/logout", [HttpMethods.Get, HttpMethods.Post], LogoutAsync);
        return endpoints;
    }

    private static async Task<IResult> AuthorizeAsync(HttpContext http, UserManager<IdentityUser> users, SignInManager<IdentityUser> signIn)
    {
        var request = http.GetOpenIddictServerRequest() ?? throw new InvalidOperationException("Not an OpenID Connect request.");
        var cookie = await http.AuthenticateAsync(IdentityConstants.ApplicationScheme);
        var user = cookie.Succeeded ? await users.GetUserAsync(cookie.Principal) : null;
        if (user is null || !await signIn.CanSignInAsync(user))
        {
            if (request.HasPromptValue(PromptValues.None))
            {
                return Reject(Errors.LoginRequired, "The user is not signed in.");
            }

            // Sign in, then come back here with the same request.
            var query = http.Request.HasFormContentType
                ? QueryString.Create(http.Request.Form.Select(p => KeyValuePair.Create(p.Key, (string?)p.Value.ToString())))
                : http.Request.QueryString;
            return Results.Challenge(
                new AuthenticationProperties { RedirectUri = http.Request.PathBase + http.Request.Path + query },
                [IdentityConstants.ApplicationScheme]);
        }

        // The only resource a token may be bound to is our MCP server (ADR 0020); without one, it is for the REST API.
        var resources = request.GetResources();
        if (resources.Any(r => r != McpResource.UriFor(http.Request)))
        {
            return Reject(Errors.InvalidTarget, $"The only resource served here is {McpResource.UriFor(http.Request)}.");
        }

        // Clients are registered by admins, so there is no consent screen: signing in is the consent.
        var identity = await IdentityForAsync(user, users, request.GetScopes());
        identity.SetResources(resources);
        return Results.SignIn(new ClaimsPrincipal(identity), properties: null, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    private static async Task<IResult> TokenAsync(HttpContext http, UserManager<IdentityUser> users, SignInManager<IdentityUser> signIn)
    {
        var request = http.GetOpenIddictServerRequest() ?? throw new InvalidOperationException("Not an OpenID Connect request.");
        if (request.IsAuthorizationCodeGrantType() || request.IsRefreshTokenGrantType())
        {
            // OpenIddict validated the code or refresh token; the user must still exist and be allowed in.
            var result = await http.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
            var user = result.Principal?.GetClaim(Claims.Subject) is { } id ? await users.FindByIdAsync(id) : null;
            if (user is null || !await signIn.CanSignInAsync(user) || await users.IsLockedOutAsync(user))
            {
                return Reject(Errors.InvalidGrant, "The user no longer exists or may not sign in.");
            }

            // RFC 8707: a token request may name resources of the grant only (OpenIddict neither narrows nor checks them).
            var granted = result.Principal!.GetResources();
            if (request.GetResources().Except(granted).Any())
            {
                return Reject(Errors.InvalidTarget, "The resource was not part of the authorization grant.");
            }

            var identity = await IdentityForAsync(user, users, result.Principal!.GetScopes());
            identity.SetResources(granted);
            return Results.SignIn(new ClaimsPrincipal(identity), properties: null, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        }

        if (request.IsClientCredentialsGrantType())
        {
            // A machine client acts as itself: its sessions belong to the client id.
            var identity = new ClaimsIdentity(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme, Claims.Name, Claims.Role);
            identity.SetClaim(Claims.Subject, Owners.ClientPrefix + request.ClientId).SetClaim(Claims.Name, request.ClientId);
            identity.SetScopes(request.GetScopes());
            identity.SetDestinations(_ => [Destinations.AccessToken]);
            return Results.SignIn(new ClaimsPrincipal(identity), properties: null, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        }

        return Reject(Errors.UnsupportedGrantType, "This grant type is not supported.");
    }

    private static async Task<IResult> UserInfoAsync(HttpContext http, UserManager<IdentityUser> users)
    {
        var result = await http.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        var user = result.Principal?.GetClaim(Claims.Subject) is { } id ? await users.FindByIdAsync(id) : null;
        if (user is null)
        {
            return Results.Challenge(
                new AuthenticationProperties(new Dictionary<string, string?>
                {
                    [OpenIddictServerAspNetCoreConstants.Properties.Error] = Errors.InvalidToken,
                    [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = "The user no longer exists.",
                }),
                [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
        }

        var claims = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            [Claims.Subject] = user.Id,
        };
        if (result.Principal!.HasScope(Scopes.Profile))
        {
            claims[Claims.Name] = user.UserName;
            claims[Claims.PreferredUsername] = user.UserName;
        }

        if (result.Principal!.HasScope(Scopes.Email))
        {
            claims[Claims.Email] = user.Email;
            claims[Claims.EmailVerified] = user.EmailConfirmed;
        }

        if (result.Principal!.HasScope(Scopes.Roles))
        {
            claims[Claims.Role] = await users.GetRolesAsync(user);
        }

        return Results.Ok(claims);
    }

    /// <summary>
    /// Ends the session only on a POST carrying this site's antiforgery token: a link, an image or another
    /// site's form (a client's RP-initiated logout too) lands on the confirmation page, which posts the
    /// same request back with the token once the user agrees.
    /// </summary>
    private static async Task<IResult> LogoutAsync(HttpContext http, SignInManager<IdentityUser> signIn, IAntiforgery antiforgery)
    {
        var signedIn = (await http.AuthenticateAsync(IdentityConstants.ApplicationScheme)).Succeeded;
        // IsRequestValidAsync passes every GET: only a POST can prove it came from our page.
        if (signedIn && !(HttpMethods.IsPost(http.Request.Method) && await antiforgery.IsRequestValidAsync(http)))
        {
            var parameters = http.Request.HasFormContentType ? (IEnumerable<KeyValuePair<string, StringValues>>)http.Request.Form : http.Request.Query;
            return Results.Redirect(http.Request.PathBase + "/logout" + QueryString.Create(
                parameters.Where(p => p.Key != AntiforgeryField).SelectMany(p => p.Value.Select(v => KeyValuePair.Create(p.Key, v)))));
        }

        if (signedIn)
        {
            await signIn.SignOutAsync();
        }

        // OpenIddict redirects to the validated post_logout_redirect_uri (or to the login page without one).
        return Results.SignOut(new AuthenticationProperties { RedirectUri = "/login" }, [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
    }

    private const string AntiforgeryField = "__RequestVerificationToken";

    private static async Task<ClaimsIdentity> IdentityForAsync(IdentityUser user, UserManager<IdentityUser> users, IEnumerable<string> scopes)
    {
        var identity = new ClaimsIdentity(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme, Claims.Name, Claims.Role);
        var granted = scopes.ToList();
        // The subject is the Identity user id: the same owner id as the cookie's NameIdentifier.
        identity.SetClaim(Claims.Subject, user.Id)
            .SetClaim(Claims.Name, user.UserName)
            .SetClaim(Claims.PreferredUsername, user.UserName)
            .SetClaims(Claims.Role, [.. await users.GetRolesAsync(user)]);
        if (granted.Contains(Scopes.Email) && user.Email is not null)
        {
            identity.SetClaim(Claims.Email, user.Email);
        }

        identity.SetScopes(granted);
        identity.SetDestinations(claim => claim.Type switch
        {
            Claims.Name or Claims.PreferredUsername when granted.Contains(Scopes.Profile) => [Destinations.AccessToken, Destinations.IdentityToken],
            Claims.Email => [Destinations.AccessToken, Destinations.IdentityToken],
            Claims.Role when granted.Contains(Scopes.Roles) => [Destinations.AccessToken, Destinations.IdentityToken],
            _ => [Destinations.AccessToken],
        });
        return identity;
    }

    private static IResult Reject(string error, string description) => Results.Forbid(
        new AuthenticationProperties(new Dictionary<string, string?>
        {
            [OpenIddictServerAspNetCoreConstants.Properties.Error] = error,
            [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = description,
        }),
        [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
}
