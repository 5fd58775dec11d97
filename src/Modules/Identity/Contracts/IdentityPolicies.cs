namespace Conclave.Identity.Contracts;

/// <summary>The authorization policies the Identity module registers, by name.</summary>
public static class IdentityPolicies
{
    /// <summary>
    /// <c>/api/**</c>: a bearer token with <see cref="ApiScopes.Read"/> (GET/HEAD) or <see cref="ApiScopes.Write"/>
    /// (everything else), or the UI's cookie (whose unsafe requests must carry the antiforgery token).
    /// </summary>
    public const string Api = "api";

    /// <summary>Signed in with the <see cref="ConclaveRoles.Admin"/> role.</summary>
    public const string Admin = ConclaveRoles.Admin;
}
