using Conclave.Agents.Contracts;
using Conclave.Agents.Providers;
using Conclave.Agents.Tools;
using Marten;
using Microsoft.Extensions.Logging;

namespace Conclave.Agents.Teams;

/// <summary>
/// Users' teams as Marten documents, with the built-in templates listed first for everyone.
/// Templates are read-only; every call is scoped to its owner, so another owner's team is not found.
/// Validation happens before anything is stored, so a refused change changes nothing.
/// </summary>
internal sealed class TeamStore(IDocumentStore store, ToolRegistry tools, TimeProvider clock, ILogger<TeamStore> logger) : ITeams
{
    public async Task<IReadOnlyList<TeamDefinition>> ListAsync(string ownerId, CancellationToken cancellationToken)
    {
        await using var session = store.QuerySession();
        var own = await session.Query<StoredTeam>()
            .Where(t => t.OwnerId == ownerId)
            .OrderBy(t => t.Name)
            .Take(TeamLimits.MaxTeamsPerOwner)
            .ToListAsync(cancellationToken);
        return [.. TeamTemplates.All, .. own.Select(t => t.Definition)];
    }

    public async Task<TeamDefinition?> FindAsync(string ownerId, Guid teamId, CancellationToken cancellationToken)
    {
        if (TeamTemplates.Find(teamId) is { } template)
        {
            return template;
        }

        await using var session = store.QuerySession();
        return (await LoadOwnAsync(session, ownerId, teamId, cancellationToken))?.Definition;
    }

    public async Task<TeamDefinition> CreateAsync(string ownerId, TeamDefinition team, CancellationToken cancellationToken)
    {
        await using var session = store.LightweightSession();
        var count = await session.Query<StoredTeam>().CountAsync(t => t.OwnerId == ownerId, cancellationToken);
        if (count >= TeamLimits.MaxTeamsPerOwner)
        {
            throw new TeamValidationException("name", $"You have {count} teams, the most one user can keep. Delete teams you no longer need first.");
        }

        var valid = TeamRules.Validate(team, await ProviderIdsAsync(session, ownerId, cancellationToken), tools.NamesFor(ownerId)) with
        {
            Id = Guid.CreateVersion7(),
            OwnerId = ownerId,
            UpdatedAt = clock.GetUtcNow(),
        };
        session.Store(StoredTeam.Of(valid));
        await session.SaveChangesAsync(cancellationToken);
        logger.LogInformation("Team {TeamId} created by {OwnerId}", valid.Id, ownerId);
        return valid;
    }

    public async Task<TeamDefinition> UpdateAsync(string ownerId, Guid teamId, TeamDefinition team, CancellationToken cancellationToken)
    {
        RefuseTemplate(teamId);
        await using var session = store.LightweightSession();
        _ = await LoadOwnAsync(session, ownerId, teamId, cancellationToken) ?? throw new TeamNotFoundException(teamId);
        var valid = TeamRules.Validate(team, await ProviderIdsAsync(session, ownerId, cancellationToken), tools.NamesFor(ownerId)) with
        {
            Id = teamId,
            OwnerId = ownerId,
            UpdatedAt = clock.GetUtcNow(),
        };
        session.Store(StoredTeam.Of(valid));
        await session.SaveChangesAsync(cancellationToken);
        logger.LogInformation("Team {TeamId} updated by {OwnerId}", teamId, ownerId);
        return valid;
    }

    public async Task<TeamDefinition> CloneAsync(string ownerId, Guid teamId, string? name, CancellationToken cancellationToken)
    {
        var source = await FindAsync(ownerId, teamId, cancellationToken) ?? throw new TeamNotFoundException(teamId);
        var copyName = string.IsNullOrWhiteSpace(name) ? CopyName(source.Name) : name;
        return await CreateAsync(ownerId, source with { Name = copyName }, cancellationToken);
    }

    public async Task DeleteAsync(string ownerId, Guid teamId, CancellationToken cancellationToken)
    {
        RefuseTemplate(teamId);
        await using var session = store.LightweightSession();
        _ = await LoadOwnAsync(session, ownerId, teamId, cancellationToken) ?? throw new TeamNotFoundException(teamId);
        session.Delete<StoredTeam>(teamId);
        await session.SaveChangesAsync(cancellationToken);
        logger.LogInformation("Team {TeamId} deleted by {OwnerId}", teamId, ownerId);
    }

    /// <summary>"Name (copy)", shortened so it stays within the name limit.</summary>
    private static string CopyName(string name)
    {
        const string Suffix = " (copy)";
        var room = TeamLimits.MaxNameLength - Suffix.Length;
        return (name.Length > room ? name[..room].TrimEnd() : name) + Suffix;
    }

    private static void RefuseTemplate(Guid teamId)
    {
        if (TeamTemplates.Find(teamId) is { } template)
        {
            throw new TeamReadOnlyException(teamId, template.Name);
        }
    }

    private static async Task<StoredTeam?> LoadOwnAsync(IQuerySession session, string ownerId, Guid teamId, CancellationToken ct)
    {
        var stored = await session.LoadAsync<StoredTeam>(teamId, ct);
        return stored?.OwnerId == ownerId ? stored : null;
    }

    private static async Task<IReadOnlySet<Guid>> ProviderIdsAsync(IQuerySession session, string ownerId, CancellationToken ct)
    {
        var ids = await session.Query<StoredProvider>().Where(p => p.OwnerId == ownerId).Select(p => p.Id).ToListAsync(ct);
        return ids.ToHashSet();
    }
}
