using System.Net;
using System.Net.Sockets;

namespace Conclave.Testing;

/// <summary>
/// A TCP port on loopback, IPv4 and IPv6, that accepts connections and only counts them: it stands
/// for an internal service (a database, a metadata endpoint) the Host must never reach for a user.
/// </summary>
public sealed class LoopbackListener : IAsyncDisposable
{
    private readonly Socket[] _sockets;
    private readonly List<EndPoint> _accepted = [];
    private readonly HashSet<EndPoint> _probes = [];
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task[] _loops;

    private LoopbackListener(Socket v4, Socket v6)
    {
        _sockets = [v4, v6];
        Port = ((IPEndPoint)v4.LocalEndPoint!).Port;
        _loops = _sockets.Select(AcceptLoopAsync).ToArray();
    }

    public int Port { get; }

    /// <summary>A base URL on this port for a provider setting, e.g. <c>http://127.0.0.1:PORT/v1/</c>.</summary>
    public Uri BaseUrl => new($"http://127.0.0.1:{Port}/v1/");

    /// <summary>Binds 127.0.0.1 and ::1 on one free port.</summary>
    public static LoopbackListener Start()
    {
        for (var attempt = 1; ; attempt++)
        {
            var v4 = Listen(IPAddress.Loopback, 0);
            try
            {
                return new LoopbackListener(v4, Listen(IPAddress.IPv6Loopback, ((IPEndPoint)v4.LocalEndPoint!).Port));
            }
            catch (SocketException) when (attempt < 20)
            {
                v4.Dispose(); // the port is taken on ::1: another one
            }
        }
    }

    /// <summary>
    /// Connections accepted so far, not counting probes, once every connection made before the call
    /// has been accepted: it connects a probe on each address family and waits for both (the kernel
    /// queues connections in order), so no connection still in the queue is missed.
    /// </summary>
    public async Task<int> SettledConnectionsAsync(TimeSpan timeout)
    {
        var probes = new List<Socket>();
        try
        {
            foreach (var address in new[] { IPAddress.Loopback, IPAddress.IPv6Loopback })
            {
                var probe = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                probes.Add(probe);
                await probe.ConnectAsync(new IPEndPoint(address, Port));
                lock (_lock)
                {
                    _probes.Add(probe.LocalEndPoint!);
                }
            }

            var ends = probes.Select(p => p.LocalEndPoint!).ToList();
            await Eventually.Until(() => { lock (_lock) { return ends.All(_accepted.Contains); } }, timeout, "the probe connections are accepted");
            lock (_lock)
            {
                return _accepted.Count(e => !_probes.Contains(e));
            }
        }
        finally
        {
            probes.ForEach(p => p.Dispose());
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        foreach (var socket in _sockets)
        {
            socket.Dispose();
        }

        await Task.WhenAll(_loops);
        _stopping.Dispose();
    }

    private static Socket Listen(IPAddress address, int port)
    {
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(new IPEndPoint(address, port));
            socket.Listen(64);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private async Task AcceptLoopAsync(Socket listener)
    {
        try
        {
            while (true)
            {
                using var connection = await listener.AcceptAsync(_stopping.Token);
                lock (_lock)
                {
                    _accepted.Add(connection.RemoteEndPoint!);
                }
            }
        }
        catch (Exception) when (_stopping.IsCancellationRequested)
        {
        }
    }
}
