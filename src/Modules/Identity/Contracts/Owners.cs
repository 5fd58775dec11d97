using System.Security.Claims;

namespace Conclave.Identity.Contracts;

/// <summary>
/// Who a signed-in caller is, as the owner of what they create: the Identity user id, the same from the
/// UI's cookie (NameIdentifier) and from a bearer token (<c>sub</c>); a machine client signed in with
/// client credentials is <c>client:&lt;client_id&gt;</c>.
/// </summary>
public static class Owners
{
    /// <summary>What a client-credentials token's owner id starts with.</summary>
    public const string ClientPrefix = "client:";

    /// <summary>The owner id of the signed-in caller; callers require an authenticated user, so it exists.</summary>
    public static string IdOf(ClaimsPrincipal user) =>
        user.FindFirstValue(ClaimTypes.NameIdentifier) ?? user.FindFirstValue("sub")
        ?? throw new InvalidOperationException("An authenticated user has no subject claim.");
}
