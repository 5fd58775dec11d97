namespace Conclave.Sandbox.Contracts;

/// <summary>Configuration section <c>Conclave:Sandbox</c>; validated when the Host starts.</summary>
public sealed class SandboxOptions
{
    public const string Section = "Conclave:Sandbox";

    /// <summary>Docker Engine API endpoint: Docker's socket in production, Podman's here.</summary>
    public string DockerEndpoint { get; set; } = "unix:///var/run/docker.sock";

    /// <summary>The sandbox image (deploy/sandbox/Containerfile, or scripts/sandbox-image.sh offline).</summary>
    public string Image { get; set; } = "localhost/conclave-sandbox:1";

    /// <summary>Host folder holding one folder per session. Default: <c>&lt;ContentRoot&gt;/.data/workspaces</c>.</summary>
    public string? WorkspaceRoot { get; set; }

    /// <summary>
    /// The same folder as the Docker daemon sees it, when that differs (the Host itself in a container
    /// with the folder mounted elsewhere). Default: <see cref="WorkspaceRoot"/>.
    /// </summary>
    public string? WorkspaceHostRoot { get; set; }

    /// <summary>Memory limit per container; swap is disabled (memory+swap is set to the same value).</summary>
    public long MemoryBytes { get; set; } = 512L * 1024 * 1024;

    /// <summary>CPU limit in billionths of a CPU (1_000_000_000 = one CPU).</summary>
    public long NanoCpus { get; set; } = 1_000_000_000;

    /// <summary>Maximum processes and threads in a container (stops fork bombs).</summary>
    public long PidsLimit { get; set; } = 128;

    /// <summary>Size of the container's /tmp (memory-backed, counts against <see cref="MemoryBytes"/>).</summary>
    public long TmpfsSizeBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>Default and maximum run time of one execution.</summary>
    public TimeSpan ExecutionTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Bytes kept of each of stdout and stderr per execution; the rest is replaced by a note.</summary>
    public int MaxOutputBytes { get; set; } = 64 * 1024;

    /// <summary>Largest code accepted for one execution.</summary>
    public int MaxCodeBytes { get; set; } = 256 * 1024;

    /// <summary>Total size of a session's files.</summary>
    public long WorkspaceQuotaBytes { get; set; } = 200L * 1024 * 1024;

    /// <summary>Largest request body one upload (all its files together) may have; larger uploads get 413 and store nothing.</summary>
    public long MaxUploadBytes { get; set; } = 100L * 1024 * 1024;

    /// <summary>A session's container is removed after this long without use; its files stay.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Containers kept started, with a kernel, ready for a session's first execution.</summary>
    public int WarmPoolSize { get; set; } = 2;

    /// <summary>Upper bound on this node's containers (sessions + pool); beyond it a new sandbox is refused with <see cref="SandboxUnavailableException"/>.</summary>
    public int MaxContainers { get; set; } = 64;

    /// <summary>Identifies this Host process's containers; must differ between Hosts sharing one Docker engine.</summary>
    public string NodeId { get; set; } = Environment.MachineName;

    /// <summary>How often idle containers are reaped, orphans removed and the warm pool topped up.</summary>
    public TimeSpan JanitorInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long creating a container and starting its kernel may take.</summary>
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(60);
}
