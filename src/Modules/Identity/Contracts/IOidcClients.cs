namespace Conclave.Identity.Contracts;

/// <summary>The OpenID Connect client registrations admins manage (a CLI, an integration).</summary>
public interface IOidcClients
{
    Task<IReadOnlyList<OidcClient>> ListAsync(CancellationToken ct);

    /// <summary>
    /// Registers a client: a public one (a redirect URI at least) uses the authorization code flow with PKCE; a
    /// confidential one gets a secret, returned only now and stored hashed, and may use client credentials.
    /// Error says what to fix when the registration was refused.
    /// </summary>
    Task<(string? Secret, string? Error)> CreateAsync(
        string clientId, string? displayName, bool confidential, IReadOnlyList<string> redirectUris, CancellationToken ct);

    Task DeleteAsync(string clientId, CancellationToken ct);
}

/// <param name="ClientType"><c>public</c> or <c>confidential</c>.</param>
public sealed record OidcClient(string ClientId, string? DisplayName, string ClientType, IReadOnlyList<string> RedirectUris);
