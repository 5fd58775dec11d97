namespace Conclave.Sandbox.Contracts;

/// <summary>Configuration section <c>Conclave:Sandbox</c>; validated when the Host starts.</summary>
public sealed class SandboxOptions
{
    public const string Section = "Conclave:Sandbox";

    /// <summary>Docker Engine API endpoint: Docker's socket in production, Podman's here.</summary>
    public string DockerEndpoint { get; set; } = "unix:///var/run/docker.sock";

    /// <summary>The sandbox image (deploy/sandbox/Containerfile, or scripts/sandbox-image.sh offline).</summary>
    public string Image { get; set; } = "localhost/conclave-sandbox:1";

    /// <summary>
    /// Host folder holding the workspaces (a file system per session). Default: <c>/var/lib/conclave/workspaces</c>
    /// as root, else <c>$XDG_DATA_HOME/conclave/workspaces</c>. It may not lie under the content or web root, which
    /// ASP.NET Core's file watchers walk.
    /// </summary>
    public string? WorkspaceRoot { get; set; }

    /// <summary>How workspaces are kept apart; null picks <see cref="Contracts.WorkspaceIsolation.FileSystemPerSession"/> where the Host can mount.</summary>
    public WorkspaceIsolation? WorkspaceIsolation { get; set; }

    /// <summary>Files and folders a session's workspace may hold (its file system's inodes).</summary>
    public long WorkspaceMaxEntries { get; set; } = 50_000;

    /// <summary>Mount /workspace noexec, so code cannot run programs it wrote there (Python scripts still run through python3).</summary>
    public bool WorkspaceNoExec { get; set; } = true;

    /// <summary>First host uid given to sandboxes; each workspace (and so each sandbox using it) gets its own uid from the range.</summary>
    public int SandboxUidBase { get; set; } = 1_000_000;

    /// <summary>How many uids the range has.</summary>
    public int SandboxUidCount { get; set; } = 1_000_000;

    /// <summary>
    /// The seccomp profile sandboxes run under (deploy/sandbox/seccomp.json). Default: the copy next to the Host's
    /// assembly. Podman reads it from this path; Docker is sent its content.
    /// </summary>
    public string? SeccompProfile { get; set; }

    /// <summary>
    /// Use sandboxes even when the engine does not enforce their limits (memory, processes, CPU, file size,
    /// workspace quota). Off: such an engine gets no session. On: the admin page warns and every start is logged.
    /// </summary>
    public bool AllowUnlimitedSandboxes { get; set; }

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

    /// <summary>Bytes kept of each of stdout, stderr, the result, its HTML and the error per execution; the rest is replaced by a note.</summary>
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

    /// <summary>
    /// How often this node tells the others it is alive (a row in the sandbox schema), when several nodes share one
    /// database (ADR 0015): a session's sandbox lives on one node and the others send it their calls.
    /// </summary>
    public TimeSpan NodeHeartbeatInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>A node silent for this long is dead: the next call for one of its sessions takes the session's sandbox over (files kept, variables lost).</summary>
    public TimeSpan NodeTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// A node silent for this long is gone for good: a live node removes what it left behind (its containers, warm
    /// volumes, placements and queue tables). Generous, as a node paused this long and coming back finds its sessions
    /// taken and its containers removed; at least twice <see cref="NodeTimeout"/>.
    /// </summary>
    public TimeSpan DeadNodeGrace { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Set when the database was just restored from a backup (the image's entrypoint sets it to the time of the
    /// restore): every node last seen before it belongs to the installation that was backed up, so this node
    /// releases their sessions at start instead of waiting for <see cref="NodeTimeout"/> (the rest of what they
    /// left is swept after <see cref="DeadNodeGrace"/> as usual). Never set it on a database other nodes use.
    /// </summary>
    public DateTimeOffset? RestoredAt { get; set; }

    /// <summary>How long a call sent to another node's sandbox may take beyond its execution time limit before the caller gives up.</summary>
    public TimeSpan RemoteCallSlack { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often idle containers are reaped, orphans removed and the warm pool topped up.</summary>
    public TimeSpan JanitorInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long creating a container and starting its kernel may take.</summary>
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(60);
}

/// <summary>How one session's files are kept apart from the Host and from other sessions.</summary>
public enum WorkspaceIsolation
{
    /// <summary>An ext4 file system per session, loop-mounted by the Host: the kernel enforces bytes and entries. Needs root.</summary>
    FileSystemPerSession,

    /// <summary>A plain folder: paths are still resolved safely, but the quota is only checked by the Host. Counts as unlimited.</summary>
    Folder,
}
