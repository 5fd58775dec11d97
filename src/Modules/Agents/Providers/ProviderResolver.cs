using Conclave.Agents.Contracts;
using Microsoft.Extensions.Options;

namespace Conclave.Agents.Providers;

/// <summary>
/// Finds the provider an agent calls: one of the owner's providers, or the installation's default
/// (<c>Conclave:Models:Default</c>) when the agent names none.
/// </summary>
internal sealed class ProviderResolver(IOptionsMonitor<ModelProviderOptions> defaults)
{
    public Task<ResolvedProvider> ResolveAsync(string ownerId, Guid? providerId, string? model, CancellationToken cancellationToken)
    {
        _ = ownerId;
        _ = cancellationToken;
        if (providerId is { } id)
        {
            // Per-user providers are resolved by the provider store (see IProviders).
            throw new ProviderNotFoundException(id);
        }

        var options = defaults.CurrentValue;
        return Task.FromResult(new ResolvedProvider(
            null,
            options.Name,
            options.BaseUrl,
            string.IsNullOrWhiteSpace(model) ? options.Model : model,
            string.IsNullOrEmpty(options.ApiKey) ? null : options.ApiKey,
            options.InputPricePerMillion,
            options.OutputPricePerMillion,
            options.MaxRetries,
            options.IdleTimeout));
    }
}
