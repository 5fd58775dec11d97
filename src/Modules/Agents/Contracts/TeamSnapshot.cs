using System.Text.Json;

namespace Conclave.Agents.Contracts;

/// <summary>
/// The team a run started with, as its first <c>RunStarted</c> carries it (the Sessions module keeps it
/// as an opaque string), so a resumed run keeps its team. This is the one place that writes and reads
/// the format; other modules and the UI read members through it, never the JSON themselves.
/// </summary>
public static class TeamSnapshot
{
    public static string Write(TeamDefinition team) => JsonSerializer.Serialize(team);

    /// <summary>The team in the snapshot; null when there is none. Throws <see cref="JsonException"/> for one that is not a team.</summary>
    public static TeamDefinition? Read(string? snapshot) => snapshot is null ? null : JsonSerializer.Deserialize<TeamDefinition>(snapshot);

    /// <summary>The members of the team in the snapshot, for display; none when there is no snapshot or it cannot be read.</summary>
    public static IReadOnlyList<AgentDefinition> MembersOf(string? snapshot)
    {
        try
        {
            return Read(snapshot)?.Agents ?? [];
        }
        catch (JsonException)
        {
            return [];
        }
    }
}
