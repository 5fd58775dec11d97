using Conclave.Agents.Contracts;

namespace Conclave.Agents.Teams;

/// <summary>The built-in templates only, until user teams are stored (teams branch replaces this file).</summary>
internal sealed class TeamStore : ITeams
{
    public Task<IReadOnlyList<TeamDefinition>> ListAsync(string ownerId, CancellationToken cancellationToken) =>
        Task.FromResult(TeamTemplates.All);

    public Task<TeamDefinition?> FindAsync(string ownerId, Guid teamId, CancellationToken cancellationToken) =>
        Task.FromResult(TeamTemplates.Find(teamId));

    public Task<TeamDefinition> CreateAsync(string ownerId, TeamDefinition team, CancellationToken cancellationToken) =>
        throw new NotSupportedException("Storing teams is not built yet.");

    public Task<TeamDefinition> UpdateAsync(string ownerId, Guid teamId, TeamDefinition team, CancellationToken cancellationToken) =>
        throw new NotSupportedException("Storing teams is not built yet.");

    public Task<TeamDefinition> CloneAsync(string ownerId, Guid teamId, string? name, CancellationToken cancellationToken) =>
        throw new NotSupportedException("Storing teams is not built yet.");

    public Task DeleteAsync(string ownerId, Guid teamId, CancellationToken cancellationToken) =>
        throw new NotSupportedException("Storing teams is not built yet.");
}
