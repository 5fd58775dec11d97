namespace Conclave.Sandbox.Nodes;

/// <summary>
/// Which node holds a session's sandbox (ADR 0015): the only node that starts a container for the session and
/// mounts its workspace; the others send it their calls. Written when a node claims the session (nobody had it,
/// or its node died), removed when the sandbox is stopped, the session removed or the node leaves.
/// </summary>
internal sealed class SandboxPlacement
{
    /// <summary>The session's id.</summary>
    public Guid Id { get; set; }

    /// <summary><see cref="Contracts.SandboxOptions.NodeId"/> of the holding node.</summary>
    public string NodeId { get; set; } = "";

    /// <summary>When the node claimed the session.</summary>
    public DateTimeOffset At { get; set; }
}

/// <summary>
/// A node that holds sandboxes, alive while <see cref="LastSeen"/> is recent (<see cref="Contracts.SandboxOptions.NodeTimeout"/>)
/// and it has not left. Kept after it leaves or dies until <see cref="Contracts.SandboxOptions.DeadNodeGrace"/> has passed, so
/// that a live node's sweep finds what it left behind (its queue, its containers) and removes it.
/// </summary>
internal sealed class SandboxNode
{
    /// <summary><see cref="Contracts.SandboxOptions.NodeId"/>.</summary>
    public string Id { get; set; } = "";

    public DateTimeOffset LastSeen { get; set; }

    /// <summary>When the node stopped in good order (it gave its sessions up); null while it runs.</summary>
    public DateTimeOffset? LeftAt { get; set; }
}
