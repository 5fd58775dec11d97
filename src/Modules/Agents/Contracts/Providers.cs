namespace Conclave.Agents.Contracts;

/// <summary>
/// A user's OpenAI-compatible model provider. The key is never part of this view: only its last
/// four characters (<see cref="KeyHint"/>) ever leave the module.
/// </summary>
public sealed record ProviderSettings
{
    public Guid Id { get; init; }
    public string OwnerId { get; init; } = "";
    public string Name { get; init; } = "";
    public ProviderPreset Preset { get; init; } = ProviderPreset.Custom;
    public Uri BaseUrl { get; init; } = new("http://localhost:11434/v1/");

    /// <summary>The models offered; the first is the default.</summary>
    public IReadOnlyList<string> Models { get; init; } = [];

    /// <summary>"…abcd" when a key is stored, null when none is.</summary>
    public string? KeyHint { get; init; }

    /// <summary>US dollars per million input (prompt) tokens; null means unknown (costs show as unknown).</summary>
    public decimal? InputPricePerMillion { get; init; }

    /// <summary>US dollars per million output (completion) tokens; null means unknown.</summary>
    public decimal? OutputPricePerMillion { get; init; }

    public DateTimeOffset UpdatedAt { get; init; }
}

public enum ProviderPreset
{
    OpenAI,
    OpenRouter,
    Groq,
    Ollama,
    Custom,
}

/// <summary>What a user sends to create or change a provider. A null <see cref="ApiKey"/> on update keeps the stored key; "" removes it.</summary>
public sealed record ProviderInput(
    string Name,
    ProviderPreset Preset,
    Uri? BaseUrl,
    IReadOnlyList<string> Models,
    string? ApiKey,
    decimal? InputPricePerMillion,
    decimal? OutputPricePerMillion);

/// <summary>A user's provider settings. Another user's provider is not found.</summary>
public interface IProviders
{
    Task<IReadOnlyList<ProviderSettings>> ListAsync(string ownerId, CancellationToken cancellationToken);

    Task<ProviderSettings?> FindAsync(string ownerId, Guid providerId, CancellationToken cancellationToken);

    Task<ProviderSettings> CreateAsync(string ownerId, ProviderInput input, CancellationToken cancellationToken);

    Task<ProviderSettings> UpdateAsync(string ownerId, Guid providerId, ProviderInput input, CancellationToken cancellationToken);

    Task DeleteAsync(string ownerId, Guid providerId, CancellationToken cancellationToken);
}

public sealed class ProviderNotFoundException(Guid providerId) : Exception($"There is no provider {providerId}.")
{
    public Guid ProviderId { get; } = providerId;
}

public sealed class ProviderValidationException(string field, string message) : Exception(message)
{
    public string Field { get; } = field;
}
