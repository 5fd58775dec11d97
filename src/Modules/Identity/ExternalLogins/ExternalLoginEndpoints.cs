using System.Security.Claims;
using Conclave.Identity.Accounts;
using Conclave.Identity.Contracts;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;

namespace Conclave.Identity.ExternalLogins;

/// <summary>Sign-in with Google or GitHub (only offered when configured, see <see cref="ExternalLoginProviders"/>).</summary>
internal static class ExternalLoginEndpoints
{
    public static IEndpointRouteBuilder MapExternalLoginEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var external = endpoints.MapGroup("/account/external").AllowAnonymous().ExcludeFromDescription();
        external.MapPost("/{provider}", async (string provider, [FromForm] string? returnUrl, SignInManager<IdentityUser> signIn) =>
        {
            var schemes = await signIn.GetExternalAuthenticationSchemesAsync();
            if (schemes.All(s => s.Name != provider))
            {
                return Results.NotFound();
            }

            var properties = signIn.ConfigureExternalAuthenticationProperties(
                provider, "/account/external/callback?returnUrl=" + Uri.EscapeDataString(LocalUrl.OrHome(returnUrl)));
            return Results.Challenge(properties, [provider]);
        });
        external.MapGet("/callback", async (string? returnUrl, SignInManager<IdentityUser> signIn, UserManager<IdentityUser> users, UserAccounts accounts, CancellationToken ct) =>
        {
            var info = await signIn.GetExternalLoginInfoAsync();
            if (info is null)
            {
                return Results.LocalRedirect("/login?error=external");
            }

            var result = await signIn.ExternalLoginSignInAsync(info.LoginProvider, info.ProviderKey, isPersistent: false, bypassTwoFactor: true);
            if (result.Succeeded)
            {
                return Results.LocalRedirect(LocalUrl.OrHome(returnUrl));
            }

            if (result.IsLockedOut)
            {
                return Results.LocalRedirect("/login?error=external");
            }

            // A new user: the registration rules apply as for a local account (no password; external login only).
            var name = info.Principal.FindFirstValue(ClaimTypes.Name) ?? info.ProviderKey;
            var email = info.Principal.FindFirstValue(ClaimTypes.Email);
            var (user, errors) = await accounts.RegisterExternalAsync(
                $"{info.LoginProvider.ToLowerInvariant()}-{new string(name.Where(char.IsLetterOrDigit).ToArray())}", email, ct);
            if (user is null)
            {
                return Results.LocalRedirect("/login?error=" + Uri.EscapeDataString(string.Join(" ", errors)));
            }

            await users.AddLoginAsync(user, new UserLoginInfo(info.LoginProvider, info.ProviderKey, info.ProviderDisplayName));
            await signIn.SignInAsync(user, isPersistent: false, info.LoginProvider);
            await signIn.Context.SignOutAsync(IdentityConstants.ExternalScheme);
            return Results.LocalRedirect(LocalUrl.OrHome(returnUrl));
        });
        return endpoints;
    }
}
