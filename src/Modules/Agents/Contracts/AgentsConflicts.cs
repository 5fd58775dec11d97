namespace Conclave.Agents.Contracts;

/// <summary>A change to a built-in template was refused; nothing was changed. Clone the template to make an editable copy.</summary>
public sealed class TeamReadOnlyException(Guid teamId, string teamName)
    : Exception($"\"{teamName}\" is a built-in template and cannot be changed or deleted. Clone it to make your own editable copy.")
{
    public Guid TeamId { get; } = teamId;
}

/// <summary>A provider still used by teams cannot be deleted; nothing was changed.</summary>
public sealed class ProviderInUseException(Guid providerId, IReadOnlyList<string> teamNames)
    : Exception($"The provider is used by {(teamNames.Count == 1 ? "the team" : "the teams")} {string.Join(", ", teamNames.Select(n => $"\"{n}\""))}. " +
                "Pick another provider for their agents first, then delete it.")
{
    public Guid ProviderId { get; } = providerId;

    public IReadOnlyList<string> TeamNames { get; } = teamNames;
}
