namespace Conclave.Agents.Providers;

/// <summary>
/// Everything needed to call one provider for one agent, resolved at the moment of the call. The
/// key is plain text only here, in memory, for the request; it is never logged (see <see cref="ToString"/>).
/// </summary>
internal sealed record ResolvedProvider(
    Guid? Id,
    string Name,
    Uri BaseUrl,
    string Model,
    string? ApiKey,
    decimal? InputPricePerMillion,
    decimal? OutputPricePerMillion,
    int MaxRetries,
    TimeSpan IdleTimeout)
{
    /// <summary>US dollars for <paramref name="promptTokens"/> and <paramref name="completionTokens"/>; null when a price is unknown.</summary>
    public decimal? Cost(int promptTokens, int completionTokens) =>
        InputPricePerMillion is { } input && OutputPricePerMillion is { } output
            ? (promptTokens * input + completionTokens * output) / 1_000_000m
            : null;

    public override string ToString() => $"{Name} ({BaseUrl.Host}, {Model})";
}
