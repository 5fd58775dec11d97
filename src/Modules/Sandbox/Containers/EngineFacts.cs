using Docker.DotNet;

namespace Conclave.Sandbox.Containers;

/// <summary>What the container engine says it is: it decides how the seccomp profile is passed and what an operator is told.</summary>
internal sealed record EngineFacts(string Name, string Version, bool Rootless, string CgroupVersion)
{
    public bool IsPodman => Name == "Podman";

    public string Description => $"{Name} {Version}, {(Rootless ? "rootless" : "rootful")}, cgroup v{CgroupVersion}";

    public static async Task<EngineFacts> ProbeAsync(IDockerClient docker, CancellationToken ct)
    {
        var version = await docker.System.GetVersionAsync(ct);
        var info = await docker.System.GetSystemInfoAsync(ct);
        var podman = version.Components?.Any(c => c.Name?.Contains("Podman", StringComparison.OrdinalIgnoreCase) == true) == true;
        var rootless = info.SecurityOptions?.Any(o => o.Contains("rootless", StringComparison.OrdinalIgnoreCase)) == true;
        return new EngineFacts(
            podman ? "Podman" : "Docker",
            version.Version ?? "?",
            rootless,
            string.IsNullOrEmpty(info.CgroupVersion) ? "?" : info.CgroupVersion);
    }
}
