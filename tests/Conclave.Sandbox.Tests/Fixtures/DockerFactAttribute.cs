using System.Net.Sockets;
using System.Text;

namespace Conclave.Sandbox.Tests.Fixtures;

/// <summary>
/// A fact that needs a container engine. It is skipped, naming what is missing, only when no Docker
/// API answers at the configured endpoint; CI always provides one (scripts/podman.sh).
/// </summary>
public sealed class DockerFactAttribute : FactAttribute
{
    public DockerFactAttribute()
    {
        if (DockerEndpoint.Unavailable is { } reason)
        {
            Skip = reason;
        }
    }
}

internal static class DockerEndpoint
{
    private static readonly Lazy<string?> Probe = new(ProbeEndpoint);

    /// <summary>From <c>Conclave__Sandbox__DockerEndpoint</c>, like the module's configuration.</summary>
    public static string Uri =>
        Environment.GetEnvironmentVariable("Conclave__Sandbox__DockerEndpoint") is { Length: > 0 } configured
            ? configured
            : "unix:///var/run/docker.sock";

    public static string Image =>
        Environment.GetEnvironmentVariable("Conclave__Sandbox__Image") is { Length: > 0 } configured
            ? configured
            : "localhost/conclave-sandbox:1";

    /// <summary>Null when the engine answers /_ping; else why the sandbox tests cannot run.</summary>
    public static string? Unavailable => Probe.Value;

    private static string? ProbeEndpoint()
    {
        var endpoint = new Uri(Uri);
        try
        {
            using var socket = endpoint.Scheme == "unix"
                ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
                : new Socket(SocketType.Stream, ProtocolType.Tcp);
            var connect = endpoint.Scheme == "unix"
                ? socket.ConnectAsync(new UnixDomainSocketEndPoint(endpoint.LocalPath))
                : socket.ConnectAsync(endpoint.Host, endpoint.Port);
            if (!connect.Wait(TimeSpan.FromSeconds(3)))
            {
                return $"No Docker API answers at {Uri} (connect timed out); set Conclave__Sandbox__DockerEndpoint (scripts/podman.sh env).";
            }
            socket.Send(Encoding.ASCII.GetBytes("GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n"));
            socket.ReceiveTimeout = 3000;
            var buffer = new byte[64];
            var read = socket.Receive(buffer);
            var status = Encoding.ASCII.GetString(buffer, 0, read);
            return status.StartsWith("HTTP/1.", StringComparison.Ordinal) && status.Contains(" 200 ", StringComparison.Ordinal)
                ? null
                : $"The endpoint {Uri} is not a Docker API (/_ping answered '{status.Split('\n')[0].Trim()}').";
        }
        catch (Exception e) when (e is SocketException or AggregateException or IOException)
        {
            return $"No Docker API answers at {Uri} ({e.GetBaseException().Message}); set Conclave__Sandbox__DockerEndpoint (scripts/podman.sh env).";
        }
    }
}
