namespace Conclave.Sandbox.Workspaces;

/// <summary>
/// Which node may mount a session's workspace image (ADR 0015: the placement is the mount lease). Two live
/// ext4 instances on one image file (two machines mounting it, or a second loop device beside a detached mount
/// that something still holds) corrupt it; so only the node holding the session mounts its image, and the others
/// never do.
/// </summary>
internal interface IMountLease
{
    /// <summary>
    /// Null when this node holds the session now (claimed if nobody held it, or taken over from a dead node): only
    /// then may it mount the session's image. Otherwise the live node that holds it.
    /// </summary>
    /// <exception cref="Contracts.SandboxUnavailableException">This node is leaving and nobody else holds the session.</exception>
    Task<string?> HolderElsewhereAsync(Guid sessionId, CancellationToken ct);
}

/// <summary>One node alone (the module without <c>AddSandboxNodes</c>): it holds every session.</summary>
internal sealed class SoleNodeLease : IMountLease
{
    public Task<string?> HolderElsewhereAsync(Guid sessionId, CancellationToken ct) => Task.FromResult<string?>(null);
}
