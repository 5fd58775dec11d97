namespace Conclave.Agents.Contracts;

/// <summary>Whether the installation's default model provider answered its last probe, and if not, why and what to do.</summary>
public sealed record ModelReachability(bool Reachable, string Name, Uri BaseUrl, string? Problem, DateTimeOffset CheckedAt);

/// <summary>
/// Probes the default provider (<c>Conclave:Models:Default</c>) with <c>GET models</c>, through the
/// egress policy, at most every few seconds; pages ask it before the user types.
/// </summary>
public interface IModelReachability
{
    Task<ModelReachability> DefaultProviderAsync(CancellationToken cancellationToken);

    /// <summary>
    /// The default provider's state when a run of <paramref name="teamId"/> (null: the default team) would call it,
    /// because one of its agents names no provider; null when the team calls only the owner's own providers.
    /// </summary>
    Task<ModelReachability?> ForTeamAsync(string ownerId, Guid? teamId, CancellationToken cancellationToken);
}
