namespace Conclave.Sandbox.Contracts;

/// <summary>Whether this node's sandboxes run with every limit in force; for the health check and the admin page.</summary>
public interface ISandboxStatus
{
    SandboxHealth Current { get; }
}

public enum SandboxLimitsState
{
    /// <summary>No sandbox started yet: the limits are checked in the first one.</summary>
    NotCheckedYet,

    /// <summary>The last sandbox started had every limit in force.</summary>
    Enforced,

    /// <summary>The engine does not enforce some limit: no session gets a sandbox.</summary>
    Refused,

    /// <summary>Some limit is not enforced, and the operator allowed that (<see cref="SandboxOptions.AllowUnlimitedSandboxes"/>).</summary>
    Unlimited,
}

/// <param name="Summary">One sentence for an operator: what holds, or what is missing and how to fix it.</param>
/// <param name="Missing">The limits not in force, with what was seen ("memory (… = max)").</param>
/// <param name="Engine">The container engine as it describes itself ("Podman 4.3.1, rootful, cgroup v1").</param>
public sealed record SandboxHealth(
    SandboxLimitsState State,
    string Summary,
    IReadOnlyList<string> Missing,
    string Engine,
    WorkspaceIsolation Isolation,
    string SeccompProfile,
    DateTimeOffset? CheckedAt);
