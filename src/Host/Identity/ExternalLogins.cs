using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;

namespace Conclave.Host.Identity;

/// <summary>Log out, and sign-in with Google or GitHub (only offered when configured).</summary>
internal static class ExternalLogins
{
    public const string Google = "Google";
    public const string GitHub = "GitHub";

    public static void MapAccountEndpoints(this IEndpointRouteBuilder endpoints)
    {
        // The form parameter makes the endpoint require the form's antiforgery token (no cross-site log-out).
        endpoints.MapPost("/account/logout", async (SignInManager<IdentityUser> signIn, [FromForm] string? returnUrl) =>
        {
            await signIn.SignOutAsync();
            return Results.LocalRedirect("/login");
        }).ExcludeFromDescription();

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
        external.MapGet("/callback", async (string? returnUrl, SignInManager<IdentityUser> signIn, UserManager<IdentityUser> users, Accounts accounts, CancellationToken ct) =>
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
    }
}
