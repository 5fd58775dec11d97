using Conclave.Agents.Contracts;

namespace Conclave.Agents.Providers;

/// <summary>A provider input, checked and cleaned up; throws <see cref="ProviderValidationException"/> naming the field.</summary>
internal sealed record ValidProvider(
    string Name,
    ProviderPreset Preset,
    Uri BaseUrl,
    IReadOnlyList<string> Models,
    decimal? InputPricePerMillion,
    decimal? OutputPricePerMillion)
{
    public static ValidProvider Of(ProviderInput input)
    {
        if (!Enum.IsDefined(input.Preset))
        {
            Fail("preset", $"Pick a preset: {string.Join(", ", Enum.GetNames<ProviderPreset>())}.");
        }

        var preset = ProviderPresets.Of(input.Preset);
        var name = string.IsNullOrWhiteSpace(input.Name) ? preset.Name : input.Name.Trim();
        if (name.Length > ProviderLimits.MaxNameLength || name.Any(char.IsControl))
        {
            Fail("name", $"The name must be one line of at most {ProviderLimits.MaxNameLength} characters.");
        }

        return new ValidProvider(
            name,
            input.Preset,
            BaseUrlOf(input.BaseUrl ?? preset.BaseUrl),
            ModelsOf(input.Models),
            Price(input.InputPricePerMillion, "inputPricePerMillion"),
            Price(input.OutputPricePerMillion, "outputPricePerMillion"));
    }

    /// <summary>The key to store: null for none; throws when it cannot be a key.</summary>
    public static string? KeyOf(string? apiKey)
    {
        var key = apiKey?.Trim();
        if (string.IsNullOrEmpty(key))
        {
            return null;
        }
        if (key.Length > ProviderLimits.MaxKeyLength)
        {
            Fail("apiKey", $"The key can have at most {ProviderLimits.MaxKeyLength} characters.");
        }
        if (key.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            Fail("apiKey", "The key cannot contain spaces or control characters; paste it exactly as the provider shows it.");
        }

        return key;
    }

    /// <summary>"…abcd": enough to recognise a key, never enough to use it (short keys show nothing of themselves).</summary>
    public static string HintOf(string key) => key.Length >= 12 ? "…" + key[^4..] : "…";

    private static Uri BaseUrlOf(Uri? url)
    {
        if (url is null)
        {
            Fail("baseUrl", "A custom provider needs its base URL, e.g. http://my-vllm:8000/v1/.");
        }
        if (!url.IsAbsoluteUri || url.Scheme is not ("http" or "https") || string.IsNullOrEmpty(url.Host))
        {
            Fail("baseUrl", "The base URL must be an absolute http:// or https:// URL, e.g. https://api.openai.com/v1/.");
        }
        if (url.OriginalString.Length > ProviderLimits.MaxUrlLength)
        {
            Fail("baseUrl", $"The base URL can have at most {ProviderLimits.MaxUrlLength} characters.");
        }
        if (!string.IsNullOrEmpty(url.UserInfo))
        {
            Fail("baseUrl", "Put the key in the key field, not in the URL.");
        }

        // Relative paths (chat/completions) are resolved against the base: it must end with '/'.
        var builder = new UriBuilder(url) { Fragment = "" };
        if (!builder.Path.EndsWith('/'))
        {
            builder.Path += "/";
        }
        return builder.Uri;
    }

    private static List<string> ModelsOf(IReadOnlyList<string>? models)
    {
        var cleaned = (models ?? []).Select(m => m?.Trim() ?? "").Where(m => m.Length > 0).Distinct(StringComparer.Ordinal).ToList();
        if (cleaned.Count == 0)
        {
            Fail("models", "Give at least one model name (the first is the default), e.g. gpt-4o-mini.");
        }
        if (cleaned.Count > ProviderLimits.MaxModels)
        {
            Fail("models", $"A provider can list at most {ProviderLimits.MaxModels} models.");
        }
        if (cleaned.FirstOrDefault(m => m.Length > ProviderLimits.MaxModelLength || m.Any(c => char.IsControl(c) || char.IsWhiteSpace(c))) is { } bad)
        {
            Fail("models", $"\"{(bad.Length > 40 ? bad[..40] + "…" : bad)}\" is not a model name: at most {ProviderLimits.MaxModelLength} characters, no spaces.");
        }

        return cleaned;
    }

    private static decimal? Price(decimal? price, string field)
    {
        if (price is { } value && (value < 0 || value > ProviderLimits.MaxPricePerMillion))
        {
            Fail(field, $"A price per million tokens must be between 0 and {ProviderLimits.MaxPricePerMillion:N0} US dollars, or empty when unknown.");
        }

        return price;
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void Fail(string field, string message) => throw new ProviderValidationException(field, message);
}
