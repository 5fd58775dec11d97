using Conclave.Agents.Contracts;

namespace Conclave.Agents.Providers;

/// <summary>
/// A user's provider as stored (a Marten document in the <c>agents</c> schema). The key is kept only
/// as ciphertext from <see cref="Secrets.ISecretStore"/>, next to a hint of its last characters.
/// </summary>
internal sealed class StoredProvider
{
    public Guid Id { get; set; }
    public string OwnerId { get; set; } = "";
    public string Name { get; set; } = "";
    public ProviderPreset Preset { get; set; }
    public string BaseUrl { get; set; } = "";
    public List<string> Models { get; set; } = [];
    public string? ProtectedKey { get; set; }
    public string? KeyHint { get; set; }
    public decimal? InputPricePerMillion { get; set; }
    public decimal? OutputPricePerMillion { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    public ProviderSettings ToSettings() => new()
    {
        Id = Id,
        OwnerId = OwnerId,
        Name = Name,
        Preset = Preset,
        BaseUrl = new Uri(BaseUrl),
        Models = Models,
        KeyHint = KeyHint,
        InputPricePerMillion = InputPricePerMillion,
        OutputPricePerMillion = OutputPricePerMillion,
        UpdatedAt = UpdatedAt,
    };
}
