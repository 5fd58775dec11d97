using Conclave.Agents.Contracts;
using Conclave.Agents.Secrets;
using Conclave.Agents.Teams;
using Marten;
using Microsoft.Extensions.Logging;

namespace Conclave.Agents.Providers;

/// <summary>
/// Users' providers as Marten documents. Keys go in through <see cref="ISecretStore"/> and never come
/// back out of this class: callers see <see cref="ProviderSettings.KeyHint"/> only (the run's
/// <see cref="ProviderResolver"/> is the one reader of the plain key).
/// </summary>
internal sealed class ProviderStore(
    IDocumentStore store, ISecretStore secrets, ModelEgress egress, TimeProvider clock, ILogger<ProviderStore> logger) : IProviders
{
    public async Task<IReadOnlyList<ProviderSettings>> ListAsync(string ownerId, CancellationToken cancellationToken)
    {
        await using var session = store.QuerySession();
        var stored = await session.Query<StoredProvider>()
            .Where(p => p.OwnerId == ownerId)
            .OrderBy(p => p.Name)
            .Take(ProviderLimits.MaxProvidersPerOwner)
            .ToListAsync(cancellationToken);
        return stored.Select(p => p.ToSettings()).ToList();
    }

    public async Task<ProviderSettings?> FindAsync(string ownerId, Guid providerId, CancellationToken cancellationToken)
    {
        await using var session = store.QuerySession();
        return (await LoadOwnAsync(session, ownerId, providerId, cancellationToken))?.ToSettings();
    }

    public async Task<ProviderSettings> CreateAsync(string ownerId, ProviderInput input, CancellationToken cancellationToken)
    {
        var valid = ValidProvider.Of(input);
        egress.CheckBaseUrl(valid.BaseUrl);
        var key = ValidProvider.KeyOf(input.ApiKey);
        await using var session = store.LightweightSession();
        var count = await session.Query<StoredProvider>().CountAsync(p => p.OwnerId == ownerId, cancellationToken);
        if (count >= ProviderLimits.MaxProvidersPerOwner)
        {
            throw new ProviderValidationException("name", $"You have {count} providers, the most one user can keep. Delete one you no longer need first.");
        }

        var stored = new StoredProvider { Id = Guid.CreateVersion7(), OwnerId = ownerId };
        Apply(stored, valid);
        SetKey(stored, key);
        session.Store(stored);
        await session.SaveChangesAsync(cancellationToken);
        logger.LogInformation("Provider {ProviderId} ({Preset}) created by {OwnerId}", stored.Id, stored.Preset, ownerId);
        return stored.ToSettings();
    }

    public async Task<ProviderSettings> UpdateAsync(string ownerId, Guid providerId, ProviderInput input, CancellationToken cancellationToken)
    {
        var valid = ValidProvider.Of(input);
        egress.CheckBaseUrl(valid.BaseUrl);
        // Null keeps the stored key, "" removes it, anything else replaces it.
        var key = input.ApiKey is null ? null : ValidProvider.KeyOf(input.ApiKey);
        await using var session = store.LightweightSession();
        var stored = await LoadOwnAsync(session, ownerId, providerId, cancellationToken) ?? throw new ProviderNotFoundException(providerId);
        Apply(stored, valid);
        if (input.ApiKey is not null)
        {
            SetKey(stored, key);
        }
        session.Store(stored);
        await session.SaveChangesAsync(cancellationToken);
        logger.LogInformation("Provider {ProviderId} updated by {OwnerId} (key {KeyChange})", providerId, ownerId,
            input.ApiKey is null ? "kept" : key is null ? "removed" : "replaced");
        return stored.ToSettings();
    }

    public async Task DeleteAsync(string ownerId, Guid providerId, CancellationToken cancellationToken)
    {
        await using var session = store.LightweightSession();
        _ = await LoadOwnAsync(session, ownerId, providerId, cancellationToken) ?? throw new ProviderNotFoundException(providerId);
        var teams = await session.Query<StoredTeam>()
            .Where(t => t.OwnerId == ownerId)
            .Take(TeamLimits.MaxTeamsPerOwner)
            .ToListAsync(cancellationToken);
        var users = teams.Where(t => t.Definition.Agents.Any(a => a.ProviderId == providerId)).Select(t => t.Name).Order().ToList();
        if (users.Count > 0)
        {
            throw new ProviderInUseException(providerId, users);
        }

        session.Delete<StoredProvider>(providerId);
        await session.SaveChangesAsync(cancellationToken);
        logger.LogInformation("Provider {ProviderId} deleted by {OwnerId}", providerId, ownerId);
    }

    private void Apply(StoredProvider stored, ValidProvider valid)
    {
        stored.Name = valid.Name;
        stored.Preset = valid.Preset;
        stored.BaseUrl = valid.BaseUrl.ToString();
        stored.Models = [.. valid.Models];
        stored.InputPricePerMillion = valid.InputPricePerMillion;
        stored.OutputPricePerMillion = valid.OutputPricePerMillion;
        stored.UpdatedAt = clock.GetUtcNow();
    }

    private void SetKey(StoredProvider stored, string? key)
    {
        stored.ProtectedKey = key is null ? null : secrets.Protect(key);
        stored.KeyHint = key is null ? null : ValidProvider.HintOf(key);
    }

    internal static async Task<StoredProvider?> LoadOwnAsync(IQuerySession session, string ownerId, Guid providerId, CancellationToken ct)
    {
        var stored = await session.LoadAsync<StoredProvider>(providerId, ct);
        return stored?.OwnerId == ownerId ? stored : null;
    }
}
