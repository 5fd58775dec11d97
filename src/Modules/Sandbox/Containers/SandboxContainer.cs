using Conclave.Sandbox.Execution;

namespace Conclave.Sandbox.Containers;

/// <summary>One started sandbox container with its kernel bridge; warm (no session yet) or bound to a session.</summary>
internal sealed class SandboxContainer(Guid sandboxId, string containerId, string name, KernelBridge bridge, string workspaceDirectory)
{
    private long lastUsedTicks = DateTimeOffset.UtcNow.UtcTicks;

    public Guid SandboxId { get; } = sandboxId;

    public string ContainerId { get; } = containerId;

    public string Name { get; } = name;

    public KernelBridge Bridge { get; } = bridge;

    /// <summary>The Host folder mounted at /workspace (a pool folder until claimed, then the session's).</summary>
    public string WorkspaceDirectory { get; set; } = workspaceDirectory;

    public Guid? SessionId { get; set; }

    public bool IsAlive => !Bridge.IsClosed;

    public DateTimeOffset LastUsed => new(Interlocked.Read(ref lastUsedTicks), TimeSpan.Zero);

    public void Touch(DateTimeOffset now) => Interlocked.Exchange(ref lastUsedTicks, now.UtcTicks);
}
