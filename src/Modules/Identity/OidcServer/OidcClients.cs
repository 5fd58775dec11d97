using System.Security.Cryptography;
using Conclave.Identity.Contracts;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Conclave.Identity.OidcServer;

/// <summary>The OpenID Connect client registrations admins manage (a CLI, an integration).</summary>
internal sealed class OidcClients(IOpenIddictApplicationManager applications) : IOidcClients
{
    public async Task<IReadOnlyList<OidcClient>> ListAsync(CancellationToken ct)
    {
        var clients = new List<OidcClient>();
        await foreach (var application in applications.ListAsync(count: 500, offset: null, ct))
        {
            clients.Add(new OidcClient(
                await applications.GetClientIdAsync(application, ct) ?? "",
                await applications.GetDisplayNameAsync(application, ct),
                await applications.GetClientTypeAsync(application, ct) ?? ClientTypes.Public,
                [.. await applications.GetRedirectUrisAsync(application, ct)]));
        }

        return clients;
    }

    public async Task<(string? Secret, string? Error)> CreateAsync(
        string clientId, string? displayName, bool confidential, IReadOnlyList<string> redirectUris, CancellationToken ct)
    {
        if (await applications.FindByClientIdAsync(clientId, ct) is not null)
        {
            return (null, $"A client with the id '{clientId}' exists already.");
        }

        foreach (var uri in redirectUris)
        {
            if (!Uri.TryCreate(uri, UriKind.Absolute, out var parsed) || !string.IsNullOrEmpty(parsed.Fragment))
            {
                return (null, $"'{uri}' is not an absolute redirect URI without a fragment.");
            }
        }

        if (!confidential && redirectUris.Count == 0)
        {
            return (null, "A public client needs at least one redirect URI.");
        }

        var descriptor = new OpenIddictApplicationDescriptor
        {
            ClientId = clientId,
            DisplayName = string.IsNullOrWhiteSpace(displayName) ? clientId : displayName.Trim(),
            ClientType = confidential ? ClientTypes.Confidential : ClientTypes.Public,
            ConsentType = ConsentTypes.Implicit,
            Permissions =
            {
                Permissions.Endpoints.Token,
                Permissions.Endpoints.Revocation,
                Permissions.Scopes.Profile,
                Permissions.Scopes.Email,
                Permissions.Scopes.Roles,
                Permissions.Prefixes.Scope + ApiScopes.Read,
                Permissions.Prefixes.Scope + ApiScopes.Write,
            },
            Requirements = { Requirements.Features.ProofKeyForCodeExchange },
        };
        foreach (var uri in redirectUris)
        {
            descriptor.RedirectUris.Add(new Uri(uri));
        }

        if (redirectUris.Count > 0)
        {
            descriptor.Permissions.UnionWith(
            [
                Permissions.Endpoints.Authorization,
                Permissions.Endpoints.EndSession,
                Permissions.GrantTypes.AuthorizationCode,
                Permissions.GrantTypes.RefreshToken,
                Permissions.ResponseTypes.Code,
            ]);
        }

        string? secret = null;
        if (confidential)
        {
            secret = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
            descriptor.ClientSecret = secret;
            descriptor.Permissions.Add(Permissions.GrantTypes.ClientCredentials);
        }

        await applications.CreateAsync(descriptor, ct);
        return (secret, null);
    }

    public async Task DeleteAsync(string clientId, CancellationToken ct)
    {
        if (await applications.FindByClientIdAsync(clientId, ct) is { } application)
        {
            await applications.DeleteAsync(application, ct);
        }
    }
}
