using System.Net.Sockets;
using System.Text.Json;
using Docker.DotNet;

namespace Conclave.Sandbox.Containers;

/// <summary>What the container engine says it is: it decides how the seccomp profile is passed and what an operator is told.</summary>
internal sealed record EngineFacts(string Name, string Version, bool Rootless, string CgroupVersion)
{
    public bool IsPodman => Name == "Podman";

    public string Description => $"{Name} {Version}, {(Rootless ? "rootless" : "rootful")}, cgroup v{CgroupVersion}";

    public static async Task<EngineFacts> ProbeAsync(IDockerClient docker, Uri endpoint, CancellationToken ct)
    {
        var version = await docker.System.GetVersionAsync(ct);
        var info = await docker.System.GetSystemInfoAsync(ct);
        var podman = version.Components?.Any(c => c.Name?.Contains("Podman", StringComparison.OrdinalIgnoreCase) == true) == true;
        var rootless = info.SecurityOptions?.Any(o => o.Contains("rootless", StringComparison.OrdinalIgnoreCase)) == true
            || (podman && await PodmanSaysRootlessAsync(endpoint, ct));
        return new EngineFacts(
            podman ? "Podman" : "Docker",
            version.Version ?? "?",
            rootless,
            string.IsNullOrEmpty(info.CgroupVersion) ? "?" : info.CgroupVersion);
    }

    /// <summary>
    /// Podman 4.3 leaves "name=rootless" out of SecurityOptions and says it in a field of its own,
    /// <c>"Rootless": true</c>, which Docker.DotNet's model drops: read /info once more, raw.
    /// </summary>
    private static async Task<bool> PodmanSaysRootlessAsync(Uri endpoint, CancellationToken ct)
    {
        using var handler = new SocketsHttpHandler();
        var address = endpoint;
        if (endpoint.Scheme == "unix")
        {
            handler.ConnectCallback = async (_, token) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(endpoint.LocalPath), token);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            };
            address = new Uri("http://engine/");
        }
        else if (endpoint.Scheme == "tcp")
        {
            address = new UriBuilder(endpoint) { Scheme = "http" }.Uri;
        }
        else if (endpoint.Scheme != "http")
        {
            return false; // TLS with client certificates or a named pipe: Docker.DotNet's business, and not Podman's way.
        }
        try
        {
            using var http = new HttpClient(handler) { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
            await using var body = await http.GetStreamAsync("info", ct);
            using var info = await JsonDocument.ParseAsync(body, cancellationToken: ct);
            return info.RootElement.TryGetProperty("Rootless", out var rootless) && rootless.ValueKind == JsonValueKind.True;
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or IOException or SocketException)
        {
            return false; // The typed calls above just worked: a failure here only loses this one fact.
        }
    }
}
