using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;

namespace Conclave.Identity.Accounts;

/// <summary>Log out: the top bar's form posts here.</summary>
internal static class AccountEndpoints
{
    public static IEndpointRouteBuilder MapAccountEndpoints(this IEndpointRouteBuilder endpoints)
    {
        // The form parameter makes the endpoint require the form's antiforgery token (no cross-site log-out).
        endpoints.MapPost("/account/logout", async (SignInManager<IdentityUser> signIn, [FromForm] string? returnUrl) =>
        {
            await signIn.SignOutAsync();
            return Results.LocalRedirect("/login");
        }).ExcludeFromDescription();
        return endpoints;
    }
}
