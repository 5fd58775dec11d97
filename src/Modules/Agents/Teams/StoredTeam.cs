using Conclave.Agents.Contracts;

namespace Conclave.Agents.Teams;

/// <summary>A user's team as stored (a Marten document in the <c>agents</c> schema).</summary>
internal sealed class StoredTeam
{
    public Guid Id { get; set; }

    public string OwnerId { get; set; } = "";

    /// <summary>Copied from the definition so lists can be ordered in the database.</summary>
    public string Name { get; set; } = "";

    public TeamDefinition Definition { get; set; } = new();

    public static StoredTeam Of(TeamDefinition team) =>
        new() { Id = team.Id, OwnerId = team.OwnerId!, Name = team.Name, Definition = team };
}
