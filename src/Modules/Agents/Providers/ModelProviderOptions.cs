using System.ComponentModel.DataAnnotations;

namespace Conclave.Agents.Providers;

/// <summary>
/// The OpenAI-compatible endpoint agents talk to (OpenAI, OpenRouter, Groq, Ollama, vLLM, ...).
/// Bound from <c>Conclave:Models:Default</c>; per-user providers replace it later.
/// </summary>
public sealed class ModelProviderOptions
{
    public const string Section = "Conclave:Models:Default";

    /// <summary>How the provider is named to users (in failures and usage).</summary>
    [Required, MinLength(1)]
    public string Name { get; set; } = "Default provider";

    [Required]
    public Uri BaseUrl { get; set; } = new("http://localhost:11434/v1/");

    [Required, MinLength(1)]
    public string Model { get; set; } = "llama3.2";

    /// <summary>Never logged. Empty for endpoints that need no key (a local Ollama).</summary>
    public string? ApiKey { get; set; }

    /// <summary>How long a completion may go without sending anything before it is abandoned.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Attempts for 429 and 5xx answers, honouring Retry-After.</summary>
    [Range(0, 10)]
    public int MaxRetries { get; set; } = 3;

    /// <summary>US dollars per million prompt tokens; unset means costs show as unknown.</summary>
    [Range(typeof(decimal), "0", "100000")]
    public decimal? InputPricePerMillion { get; set; }

    /// <summary>US dollars per million completion tokens; unset means costs show as unknown.</summary>
    [Range(typeof(decimal), "0", "100000")]
    public decimal? OutputPricePerMillion { get; set; }
}
