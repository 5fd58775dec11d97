using System.Security.Cryptography;
using Conclave.Agents.Contracts;
using Conclave.Agents.Secrets;
using Marten;
using Microsoft.Extensions.Options;

namespace Conclave.Agents.Providers;

/// <summary>
/// Finds the provider an agent calls: one of the owner's providers, or the installation's default
/// (<c>Conclave:Models:Default</c>) when the agent names none. The one place a stored key is decrypted.
/// </summary>
internal sealed class ProviderResolver(IOptionsMonitor<ModelProviderOptions> defaults, IDocumentStore store, ISecretStore secrets)
{
    public async Task<ResolvedProvider> ResolveAsync(string ownerId, Guid? providerId, string? model, CancellationToken cancellationToken)
    {
        var options = defaults.CurrentValue;
        if (providerId is { } id)
        {
            await using var session = store.QuerySession();
            var stored = await ProviderStore.LoadOwnAsync(session, ownerId, id, cancellationToken) ?? throw new ProviderNotFoundException(id);
            return new ResolvedProvider(
                stored.Id,
                stored.Name,
                new Uri(stored.BaseUrl),
                string.IsNullOrWhiteSpace(model) ? stored.Models[0] : model,
                KeyOf(stored),
                stored.InputPricePerMillion,
                stored.OutputPricePerMillion,
                options.MaxRetries,
                options.IdleTimeout);
        }

        return new ResolvedProvider(
            null,
            options.Name,
            options.BaseUrl,
            string.IsNullOrWhiteSpace(model) ? options.Model : model,
            string.IsNullOrEmpty(options.ApiKey) ? null : options.ApiKey,
            options.InputPricePerMillion,
            options.OutputPricePerMillion,
            options.MaxRetries,
            options.IdleTimeout);
    }

    private string? KeyOf(StoredProvider stored)
    {
        if (stored.ProtectedKey is null)
        {
            return null;
        }

        try
        {
            return secrets.Unprotect(stored.ProtectedKey);
        }
        catch (CryptographicException)
        {
            // The key ring that encrypted it is gone: only the user can fix this, by entering the key again.
            throw new ProviderValidationException(
                "apiKey", $"The key of provider \"{stored.Name}\" can no longer be decrypted. Enter the key again on the Providers page.");
        }
    }
}
