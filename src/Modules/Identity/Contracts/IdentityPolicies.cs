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

    /// <summary>
    /// <see cref="McpResource.Path"/>: a bearer token issued for the MCP server (its audience is
    /// <see cref="McpResource.UriFor"/>) with <see cref="ApiScopes.Write"/>. Anything else is a 401 pointing to the
    /// protected-resource metadata; the UI's cookie does not count.
    /// </summary>
    public const string Mcp = "mcp";
}
