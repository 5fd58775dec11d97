namespace Conclave.Agents.Contracts;

/// <summary>What a preset fills in: the endpoint's usual base URL and models worth starting with.</summary>
/// <param name="BaseUrl">Null for <see cref="ProviderPreset.Custom"/>: the user gives the URL.</param>
public sealed record ProviderPresetInfo(ProviderPreset Preset, string Name, Uri? BaseUrl, IReadOnlyList<string> SuggestedModels);

public static class ProviderPresets
{
    public static IReadOnlyList<ProviderPresetInfo> All { get; } =
    [
        new(ProviderPreset.OpenAI, "OpenAI", new Uri("https://api.openai.com/v1/"), ["gpt-4o-mini", "gpt-4o", "gpt-4.1", "gpt-4.1-mini"]),
        new(ProviderPreset.OpenRouter, "OpenRouter", new Uri("https://openrouter.ai/api/v1/"),
            ["openai/gpt-4o-mini", "anthropic/claude-3.5-sonnet", "meta-llama/llama-3.1-70b-instruct"]),
        new(ProviderPreset.Groq, "Groq", new Uri("https://api.groq.com/openai/v1/"), ["llama-3.3-70b-versatile", "llama-3.1-8b-instant"]),
        new(ProviderPreset.Ollama, "Ollama", new Uri("http://localhost:11434/v1/"), ["llama3.2", "qwen2.5-coder", "mistral"]),
        new(ProviderPreset.Custom, "Custom (OpenAI-compatible)", null, []),
    ];

    public static ProviderPresetInfo Of(ProviderPreset preset) => All.First(p => p.Preset == preset);
}
