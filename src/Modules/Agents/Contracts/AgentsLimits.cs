namespace Conclave.Agents.Contracts;

/// <summary>The bounds teams are validated against (the UI uses them for its inputs too).</summary>
public static class TeamLimits
{
    public const int MaxNameLength = 80;
    public const int MaxDescriptionLength = 1000;
    public const int MaxAgents = 10;
    public const int MaxAgentNameLength = 32;
    public const int MaxRoleLength = 200;
    public const int MaxSystemPromptLength = 8000;
    public const int MaxSelectorPromptLength = 4000;
    public const int MaxModelLength = 200;
    public const int MaxKeywordLength = 50;
    public const int MaxTurns = 200;
    public const long MaxTokens = 100_000_000;
    public const decimal MaxCost = 10_000m;
    public static readonly TimeSpan MaxDuration = TimeSpan.FromHours(24);

    /// <summary>Teams one user may keep (besides the built-in templates).</summary>
    public const int MaxTeamsPerOwner = 200;

    /// <summary>An agent's name: a letter, then up to 31 letters, digits, '_' or '-'.</summary>
    public const string AgentNamePattern = "^[A-Za-z][A-Za-z0-9_-]{0,31}$";
}

/// <summary>The bounds providers are validated against.</summary>
public static class ProviderLimits
{
    public const int MaxNameLength = 80;
    public const int MaxUrlLength = 500;
    public const int MaxModels = 50;
    public const int MaxModelLength = 200;
    public const int MaxKeyLength = 512;
    public const decimal MaxPricePerMillion = 100_000m;

    /// <summary>Providers one user may keep.</summary>
    public const int MaxProvidersPerOwner = 50;
}
