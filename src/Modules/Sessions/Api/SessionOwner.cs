using System.Security.Claims;

namespace Conclave.Sessions.Api;

internal static class SessionOwner
{
    /// <summary>The owner id of the signed-in user; endpoints require authorization, so it exists.</summary>
    public static string OwnerId(this ClaimsPrincipal user) =>
        user.FindFirstValue(ClaimTypes.NameIdentifier) ?? user.FindFirstValue("sub")
        ?? throw new InvalidOperationException("An authenticated user has no subject claim.");
}
