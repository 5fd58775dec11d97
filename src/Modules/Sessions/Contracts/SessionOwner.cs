using System.Security.Claims;

namespace Conclave.Sessions.Contracts;

/// <summary>Who owns what a request touches: the one rule every surface (API, UI, other modules) reads.</summary>
public static class SessionOwner
{
    /// <summary>The owner id of the signed-in user; callers require an authenticated user, so it exists.</summary>
    public static string OwnerId(this ClaimsPrincipal user) =>
        user.FindFirstValue(ClaimTypes.NameIdentifier) ?? user.FindFirstValue("sub")
        ?? throw new InvalidOperationException("An authenticated user has no subject claim.");
}
