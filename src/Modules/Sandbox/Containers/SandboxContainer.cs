using Conclave.Sandbox.Execution;
using Conclave.Sandbox.Workspaces;

namespace Conclave.Sandbox.Containers;

/// <summary>One started sandbox container with its kernel bridge; warm (no session yet) or bound to a session.</summary>
internal sealed class SandboxContainer(Guid sandboxId, string containerId, string name, KernelBridge bridge, WorkspaceVolume volume)
{
    private long _lastUsedTicks = DateTimeOffset.UtcNow.UtcTicks;

    public Guid SandboxId { get; } = sandboxId;

    public string ContainerId { get; } = containerId;

    public string Name { get; } = name;

    public KernelBridge Bridge { get; } = bridge;

    /// <summary>The volume mounted at /workspace (a warm one until claimed, then the session's).</summary>
    public WorkspaceVolume Volume { get; } = volume;

    public Guid? SessionId { get; set; }

    public bool IsAlive => !Bridge.IsClosed;

    public DateTimeOffset LastUsed => new(Interlocked.Read(ref _lastUsedTicks), TimeSpan.Zero);

    public void Touch(DateTimeOffset now) => Interlocked.Exchange(ref _lastUsedTicks, now.UtcTicks);
}
