namespace Conclave.Identity.Contracts;

/// <summary>The roles Conclave knows; the admin page and policies use these names.</summary>
public static class ConclaveRoles
{
    /// <summary>Manages users, the registration mode and OpenID Connect clients.</summary>
    public const string Admin = "admin";
}
