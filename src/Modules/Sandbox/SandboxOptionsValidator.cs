using Conclave.Sandbox.Contracts;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Conclave.Sandbox;

internal sealed class SandboxOptionsValidator(IHostEnvironment? environment = null) : IValidateOptions<SandboxOptions>
{
    public ValidateOptionsResult Validate(string? name, SandboxOptions o)
    {
        var failures = new List<string>();
        if (o.WorkspaceRoot is { Length: > 0 } root && environment is not null)
        {
            foreach (var watched in new[] { environment.ContentRootPath, (environment as IWebHostEnvironment)?.WebRootPath })
            {
                if (watched is { Length: > 0 } && IsUnder(Path.GetFullPath(root), Path.GetFullPath(watched)))
                {
                    failures.Add($"WorkspaceRoot '{root}' lies under '{watched}', which ASP.NET Core's file watchers walk: code in a sandbox could crash the Host through it. Choose a folder outside it (e.g. /var/lib/conclave/workspaces).");
                }
            }
        }
        Require(failures, o.WorkspaceMaxEntries is >= 100 and <= 10_000_000, "WorkspaceMaxEntries must be between 100 and 10000000.");
        Require(failures, o.SandboxUidBase >= 1000 && o.SandboxUidCount >= 1 && (long)o.SandboxUidBase + o.SandboxUidCount <= int.MaxValue,
            "SandboxUidBase must be at least 1000 and SandboxUidBase + SandboxUidCount at most 2147483647.");
        Require(failures, o.SeccompProfile is { Length: > 0 } profile && File.Exists(profile),
            $"SeccompProfile '{o.SeccompProfile}' does not exist (deploy/sandbox/seccomp.json is copied next to the Host).");
        if (!Uri.TryCreate(o.DockerEndpoint, UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("unix" or "tcp" or "http" or "https" or "npipe"))
        {
            failures.Add($"DockerEndpoint '{o.DockerEndpoint}' must be an absolute unix://, tcp:// or http(s):// URI.");
        }
        Require(failures, !string.IsNullOrWhiteSpace(o.Image), "Image is required.");
        Require(failures, !string.IsNullOrWhiteSpace(o.WorkspaceRoot), "WorkspaceRoot is required.");
        Require(failures, o.MemoryBytes >= 64L * 1024 * 1024, "MemoryBytes must be at least 64 MiB.");
        Require(failures, o.NanoCpus >= 10_000_000, "NanoCpus must be at least 0.01 CPU (10000000).");
        Require(failures, o.PidsLimit is >= 32 and <= 32768, "PidsLimit must be between 32 and 32768.");
        Require(failures, o.TmpfsSizeBytes >= 1024 * 1024 && o.TmpfsSizeBytes < o.MemoryBytes, "TmpfsSizeBytes must be at least 1 MiB and below MemoryBytes.");
        Require(failures, o.ExecutionTimeout >= TimeSpan.FromSeconds(1) && o.ExecutionTimeout <= TimeSpan.FromHours(1), "ExecutionTimeout must be between 1 second and 1 hour.");
        Require(failures, o.MaxOutputBytes is >= 1024 and <= 16 * 1024 * 1024, "MaxOutputBytes must be between 1 KiB and 16 MiB.");
        Require(failures, o.MaxCodeBytes is >= 1024 and <= 16 * 1024 * 1024, "MaxCodeBytes must be between 1 KiB and 16 MiB.");
        Require(failures, o.WorkspaceQuotaBytes >= 1024 * 1024, "WorkspaceQuotaBytes must be at least 1 MiB.");
        Require(failures, o.MaxUploadBytes >= 1024, "MaxUploadBytes must be at least 1 KiB.");
        Require(failures, o.IdleTimeout >= TimeSpan.FromSeconds(1), "IdleTimeout must be at least 1 second.");
        Require(failures, o.WarmPoolSize is >= 0 and <= 64, "WarmPoolSize must be between 0 and 64.");
        Require(failures, o.MaxContainers >= 1 && o.MaxContainers >= o.WarmPoolSize, "MaxContainers must be at least 1 and at least WarmPoolSize.");
        Require(failures, !string.IsNullOrWhiteSpace(o.NodeId) && o.NodeId.Length <= 128, "NodeId is required (at most 128 characters).");
        Require(failures, o.JanitorInterval >= TimeSpan.FromMilliseconds(100), "JanitorInterval must be at least 100 ms.");
        Require(failures, o.NodeHeartbeatInterval >= TimeSpan.FromMilliseconds(100), "NodeHeartbeatInterval must be at least 100 ms.");
        Require(failures, o.NodeTimeout >= 2 * o.NodeHeartbeatInterval, "NodeTimeout must be at least twice NodeHeartbeatInterval, or a live node passes for dead.");
        Require(failures, o.DeadNodeGrace >= 2 * o.NodeTimeout, "DeadNodeGrace must be at least twice NodeTimeout: a node merely slow must not have its containers swept away.");
        Require(failures, o.RemoteCallSlack >= TimeSpan.FromSeconds(1), "RemoteCallSlack must be at least 1 second.");
        Require(failures, o.StartTimeout >= TimeSpan.FromSeconds(1), "StartTimeout must be at least 1 second.");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures.Select(f => $"Conclave:Sandbox: {f}"));
    }

    private static bool IsUnder(string path, string folder)
    {
        var parent = folder.TrimEnd('/') + "/";
        return path == folder.TrimEnd('/') || path.StartsWith(parent, StringComparison.Ordinal);
    }

    private static void Require(List<string> failures, bool condition, string message)
    {
        if (!condition)
        {
            failures.Add(message);
        }
    }
}
