using Conclave.Agents.Contracts;

namespace Conclave.Host.Components.Teams;

/// <summary>The providers page's form; the store validates what it turns into.</summary>
internal sealed class ProviderFormModel
{
    public ProviderPreset Preset { get; private set; }
    public string Name { get; set; } = "";
    public string? BaseUrl { get; set; }
    public string Models { get; set; } = "";

    /// <summary>Only what the user typed in this attempt; empty means "keep" on update.</summary>
    public string? ApiKey { get; set; }
    public bool RemoveKey { get; set; }
    public decimal? InputPrice { get; set; }
    public decimal? OutputPrice { get; set; }

    public static ProviderFormModel For(ProviderPreset preset)
    {
        var form = new ProviderFormModel();
        form.ApplyPreset(preset);
        return form;
    }

    public static ProviderFormModel From(ProviderSettings provider) => new()
    {
        Preset = provider.Preset,
        Name = provider.Name,
        BaseUrl = provider.BaseUrl.ToString(),
        Models = string.Join(", ", provider.Models),
        InputPrice = provider.InputPricePerMillion,
        OutputPrice = provider.OutputPricePerMillion,
    };

    /// <summary>Fills in the preset's URL, models and name where the user kept the previous preset's (or nothing).</summary>
    public void ApplyPreset(ProviderPreset preset)
    {
        var previous = ProviderPresets.Of(Preset);
        var next = ProviderPresets.Of(preset);
        if (string.IsNullOrWhiteSpace(BaseUrl) || BaseUrl == previous.BaseUrl?.ToString())
        {
            BaseUrl = next.BaseUrl?.ToString();
        }
        if (string.IsNullOrWhiteSpace(Models) || Models == string.Join(", ", previous.SuggestedModels))
        {
            Models = string.Join(", ", next.SuggestedModels);
        }
        if (string.IsNullOrWhiteSpace(Name) || Name == previous.Name)
        {
            Name = next.Name;
        }
        Preset = preset;
    }

    public ProviderInput ToInput(bool updating)
    {
        Uri? baseUrl = null;
        if (!string.IsNullOrWhiteSpace(BaseUrl) && !Uri.TryCreate(BaseUrl.Trim(), UriKind.Absolute, out baseUrl))
        {
            throw new ProviderValidationException("baseUrl", "The base URL must be an absolute http:// or https:// URL, e.g. https://api.openai.com/v1/.");
        }

        var models = Models.Split([',', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        // On update an empty key field keeps the stored key; "Remove" sends "" to delete it.
        var key = RemoveKey ? "" : string.IsNullOrEmpty(ApiKey) ? (updating ? null : "") : ApiKey;
        return new ProviderInput(Name, Preset, baseUrl, models, key, InputPrice, OutputPrice);
    }
}
