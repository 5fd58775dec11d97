using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Conclave.Testing;

namespace Conclave.Deployment.Tests.Fixtures;

/// <summary>How a test runs the image.</summary>
public sealed record ContainerOptions
{
    /// <summary>The scripted provider's base URL (on this machine's loopback: the container shares the host's network).</summary>
    public required Uri ProviderBaseUrl { get; init; }

    /// <summary>An outside database; null for the embedded one under /data.</summary>
    public string? ConnectionString { get; init; }

    /// <summary>The run line a README reader uses: SYS_ADMIN, loop devices, a shared workspace bind. False: a bare `podman run`.</summary>
    public bool WithWorkspaceOptions { get; init; } = true;

    /// <summary>A backup of scripts/backup.sh to restore into the new /data (CONCLAVE_RESTORE_FROM).</summary>
    public string? RestoreFrom { get; init; }
}

/// <summary>
/// One Conclave container of the image, run with Podman the way the README says: /data on a volume
/// of its own, the workspaces on a host folder bound with shared propagation, the engine's socket,
/// SYS_ADMIN and the loop devices. It shares the host's network, so that it reaches the scripted
/// provider and the test cluster on loopback; its own port is a free one.
/// </summary>
public sealed class ConclaveContainer : IAsyncDisposable
{
    private readonly ConclaveImage _image;
    private readonly ContainerOptions _options;

    private ConclaveContainer(ConclaveImage image, ContainerOptions options)
    {
        _image = image;
        _options = options;
        var id = Guid.NewGuid().ToString("N")[..10];
        Name = $"conclave-image-test-{id}";
        NodeId = $"tests-image-{id}";
        DataVolume = $"conclave-image-test-{id}";
        WorkspacesHostPath = Path.Combine(Path.GetTempPath(), "conclave-image-tests", id, "workspaces");
        Port = FreePort();
        MetricsPort = FreePort();
        BaseAddress = new Uri($"http://127.0.0.1:{Port}/");
    }

    public string Name { get; }

    /// <summary>The Host's sandbox node id: its sandbox containers carry it.</summary>
    public string NodeId { get; }

    public string DataVolume { get; }

    public string WorkspacesHostPath { get; }

    public int Port { get; }

    /// <summary>Where Prometheus reads the meters (Conclave:Metrics:Port), apart from <see cref="Port"/>.</summary>
    public int MetricsPort { get; }

    public Uri BaseAddress { get; }

    public static async Task<ConclaveContainer> RunAsync(ConclaveImage image, ContainerOptions options)
    {
        var container = new ConclaveContainer(image, options);
        Directory.CreateDirectory(container.WorkspacesHostPath);
        await Podman.RunAsync(container.RunArguments());
        return container;
    }

    private List<string> RunArguments()
    {
        var arguments = new List<string>
        {
            "run", "-d", "--name", Name, "--network", "host",
            "-v", $"{DataVolume}:/data",
            "-v", $"{_image.EngineSocket}:/var/run/docker.sock",
            "-e", $"ASPNETCORE_HTTP_PORTS={Port}",
            "-e", $"Conclave__Metrics__Port={MetricsPort}",
            "-e", $"Conclave__Sandbox__NodeId={NodeId}",
            "-e", $"Conclave__Sandbox__Image={_image.SandboxImage}",
            "-e", "Conclave__Sandbox__WarmPoolSize=0",
            "-e", $"Conclave__Models__Default__BaseUrl={_options.ProviderBaseUrl}",
            "-e", "Conclave__Models__Default__Model=scripted-model",
            "-e", "Conclave__Models__Default__ApiKey=fake-key-for-the-image-tests",
            "-e", $"Conclave__Egress__AllowList__0=127.0.0.1:{_options.ProviderBaseUrl.Port}",
            "-e", "Conclave__Identity__Registration=Open",
            // Plain http://127.0.0.1, as a person trying the image on their machine (README, Self-hosting).
            "-e", "Conclave__Identity__AllowHttp=true",
        };
        if (_options.WithWorkspaceOptions)
        {
            arguments.AddRange([
                "-v", $"{WorkspacesHostPath}:/data/workspaces:rshared",
                "-e", $"Conclave__Sandbox__WorkspaceHostRoot={WorkspacesHostPath}",
                "--cap-add", "SYS_ADMIN", "--cap-add", "MKNOD",
                "--device", "/dev/loop-control", "--device-cgroup-rule", "b 7:* rmw",
            ]);
        }
        if (_options.RestoreFrom is { } backup)
        {
            arguments.AddRange(["-v", $"{backup}:/restore:ro", "-e", "CONCLAVE_RESTORE_FROM=/restore"]);
        }
        if (_options.ConnectionString is { } connectionString)
        {
            arguments.AddRange(["-e", $"ConnectionStrings__Conclave={connectionString}"]);
        }
        arguments.Add(_image.Name);
        return arguments;
    }

    /// <summary>Waits until /health/ready answers 200 and returns its JSON and how long since <paramref name="since"/>.</summary>
    public async Task<(JsonDocument Health, TimeSpan Elapsed)> WaitReadyAsync(long since, TimeSpan timeout)
    {
        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        JsonDocument? health = null;
        try
        {
            await Eventually.Until(async () =>
            {
                if (!await IsRunningAsync())
                {
                    throw new InvalidOperationException($"The container {Name} stopped:\n{await LogsAsync()}");
                }
                try
                {
                    using var response = await http.GetAsync("/health/ready");
                    if (response.StatusCode != HttpStatusCode.OK)
                    {
                        return false;
                    }
                    health = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                    return true;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
                catch (TaskCanceledException)
                {
                    return false;
                }
            }, timeout, $"{Name} answers /health/ready with 200");
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}\n{await LogsAsync()}", e);
        }
        return (health!, Stopwatch.GetElapsedTime(since));
    }

    /// <summary>/health/ready's status code and JSON, whatever they are.</summary>
    public async Task<(HttpStatusCode Status, JsonDocument Health)> ReadinessAsync()
    {
        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
        using var response = await http.GetAsync("/health/ready");
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()));
    }

    /// <summary>Waits until the Host answers at all (any status of /health/live).</summary>
    public async Task WaitLiveAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        await Eventually.Until(async () =>
        {
            try
            {
                using var response = await http.GetAsync("/health/live");
                return response.IsSuccessStatusCode;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                return false;
            }
        }, timeout, $"{Name} answers /health/live");
    }

    /// <summary>Stops the container as an operator would (SIGTERM, up to a minute to finish).</summary>
    public Task StopAsync() => Podman.RunAsync(["stop", "-t", "60", Name], TimeSpan.FromMinutes(2));

    public Task StartAsync() => Podman.RunAsync(["start", Name]);

    /// <summary>Runs the image's health check in the container (what HEALTHCHECK runs); true when it passed.</summary>
    public async Task<bool> HealthCheckPassesAsync() =>
        (await Podman.TryAsync(["healthcheck", "run", Name])).ExitCode == 0;

    public async Task<string> LogsAsync()
    {
        var logs = await Podman.TryAsync(["logs", Name]);
        return logs.Output + logs.Errors;
    }

    private async Task<bool> IsRunningAsync() =>
        (await Podman.TryAsync(["inspect", "--format", "{{.State.Running}}", Name])).Output.Trim() == "true";

    public async ValueTask DisposeAsync()
    {
        await Podman.TryAsync(["stop", "-t", "30", Name]);
        await Podman.TryAsync(["rm", "-f", Name]);
        var sandboxes = (await Podman.TryAsync(["ps", "-aq", "--filter", $"label=conclave.node={NodeId}"])).Output
            .Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (sandboxes.Length > 0)
        {
            await Podman.TryAsync(["rm", "-f", .. sandboxes]);
        }
        await Podman.TryAsync(["volume", "rm", "-f", DataVolume]);
        // A Host that did not stop gracefully leaves its workspaces mounted on the host.
        WorkspaceMounts.DeleteRoot(Path.GetDirectoryName(WorkspacesHostPath)!);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
