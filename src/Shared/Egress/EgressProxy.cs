using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Conclave.Egress;

/// <summary>
/// An HTTP forward proxy on loopback that lets a client (a browser) reach only what the egress policy
/// allows, judged when it connects, on the address the name resolved to: <c>CONNECT host:port</c> tunnels
/// (HTTPS, WebSocket) and absolute-form <c>http://</c> requests (each on its own upstream connection, so a
/// kept-alive client connection never carries a second request to another host). Every connection must
/// carry the Basic credentials of a <see cref="ProxyClient"/>, which names who is browsing for the log;
/// unknown or missing credentials get 407. A refusal is 403, an unreachable address 502, both with one
/// short text that does not tell a closed port from a filtered one.
/// </summary>
public sealed partial class EgressProxy : IAsyncDisposable
{
    /// <summary>A request head longer than this is refused (431): a client may not grow the proxy's buffers.</summary>
    public const int MaxHeadBytes = 16 * 1024;

    private static readonly TimeSpan HeadTimeout = TimeSpan.FromSeconds(15);

    private readonly EgressPolicy _policy;
    private readonly IReadOnlyList<EgressRule> _allowed;
    private readonly IReadOnlyList<EgressDenyRule> _denied;
    private readonly int _maxConnections;
    private readonly ILogger<EgressProxy> _logger;
    private readonly ConcurrentDictionary<string, ProxyClient> _clients = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly TcpListener _listener;
    private Task _accepting = Task.CompletedTask;
    private int _open;

    /// <param name="allowed">Allow-list entries for this proxy's clients only (e.g. a test site on loopback), besides the policy's own.</param>
    /// <param name="denied">Deny entries for this proxy's clients (domains, addresses, ranges), stronger than any allow entry.</param>
    public EgressProxy(EgressPolicy policy, IReadOnlyList<EgressRule> allowed, int maxConnections, ILogger<EgressProxy> logger, IReadOnlyList<EgressDenyRule>? denied = null)
    {
        _policy = policy;
        _allowed = allowed;
        _denied = denied ?? [];
        _maxConnections = maxConnections;
        _logger = logger;
        _listener = new TcpListener(IPAddress.Loopback, 0);
    }

    /// <summary>Where clients connect: <c>http://127.0.0.1:port</c>.</summary>
    public IPEndPoint Endpoint => (IPEndPoint)_listener.LocalEndpoint;

    public Uri Address => new($"http://{Endpoint}");

    public void Start()
    {
        _listener.Start(backlog: 128);
        _accepting = AcceptAsync(_stopping.Token);
    }

    /// <summary>New credentials for one client; <paramref name="tag"/> (e.g. "session …, run …") goes into every log line of its traffic.</summary>
    public ProxyClient Register(string tag)
    {
        var client = new ProxyClient(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)), Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24)), tag);
        _clients[client.UserName] = client;
        return client;
    }

    /// <summary>
    /// The same credentials, logged as <paramref name="tag"/> from now on (e.g. when a session's browsing starts a
    /// new run). Revoked credentials stay revoked.
    /// </summary>
    public ProxyClient Retag(ProxyClient client, string tag)
    {
        var retagged = client with { Tag = tag };
        return _clients.TryGetValue(client.UserName, out var current) && _clients.TryUpdate(client.UserName, retagged, current) ? retagged : client;
    }

    /// <summary>The credentials stop working; connections already open are not cut.</summary>
    public void Revoke(ProxyClient client) => _clients.TryRemove(client.UserName, out _);

    private async Task AcceptAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            TcpClient accepted;
            try
            {
                accepted = await _listener.AcceptTcpClientAsync(cancellationToken);
            }
            catch (Exception) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException e)
            {
                LogAcceptFailed(_logger, e);
                continue;
            }

            _ = ServeAsync(accepted, cancellationToken);
        }
    }

    private async Task ServeAsync(TcpClient accepted, CancellationToken cancellationToken)
    {
        using var connection = accepted;
        connection.NoDelay = true;
        var client = connection.GetStream();
        if (Interlocked.Increment(ref _open) > _maxConnections)
        {
            Interlocked.Decrement(ref _open);
            await AnswerAsync(client, 503, "Service Unavailable", "Too many connections through the proxy.", CancellationToken.None);
            return;
        }

        try
        {
            await ProxyAsync(client, cancellationToken);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client or the upstream went away, or the proxy stops: nothing to answer.
        }
        finally
        {
            Interlocked.Decrement(ref _open);
        }
    }

    private async Task ProxyAsync(NetworkStream client, CancellationToken cancellationToken)
    {
        var (head, rest) = await ReadHeadAsync(client, cancellationToken);
        if (head is null)
        {
            await AnswerAsync(client, 431, "Request Header Fields Too Large", $"The request head is over {MaxHeadBytes:N0} bytes or incomplete.", cancellationToken);
            return;
        }

        var lines = head.Split("\r\n");
        var requestLine = lines[0].Split(' ');
        if (requestLine.Length != 3 || !requestLine[2].StartsWith("HTTP/1.", StringComparison.Ordinal))
        {
            await AnswerAsync(client, 400, "Bad Request", "Not an HTTP/1.x proxy request.", cancellationToken);
            return;
        }

        var headers = lines.Skip(1).TakeWhile(l => l.Length > 0).ToList();
        if (Authenticate(headers) is not { } who)
        {
            await AnswerAsync(client, 407, "Proxy Authentication Required", "Sign in to the proxy.", cancellationToken,
                "Proxy-Authenticate: Basic realm=\"conclave\"\r\n");
            return;
        }

        var (method, target) = (requestLine[0], requestLine[1]);
        string host;
        int port;
        if (method == "CONNECT")
        {
            if (!TrySplitAuthority(target, out host, out port))
            {
                await AnswerAsync(client, 400, "Bad Request", "CONNECT needs host:port.", cancellationToken);
                return;
            }
        }
        else if (Uri.TryCreate(target, UriKind.Absolute, out var url) && url.Scheme == Uri.UriSchemeHttp)
        {
            (host, port) = (url.IdnHost, url.Port);
        }
        else
        {
            LogRefused(_logger, who.Tag, method, Shorten(target), "only http:// requests and CONNECT tunnels go through the proxy");
            await AnswerAsync(client, 400, "Bad Request", "Only http:// requests and CONNECT tunnels go through the proxy.", cancellationToken);
            return;
        }

        if (_denied.FirstOrDefault(d => d.DeniesName(host) || IPAddress.TryParse(host.Trim('[', ']'), out var literal) && d.DeniesAddress(literal)) is { } deniedName)
        {
            LogRefused(_logger, who.Tag, method, $"{host}:{port}", $"denied by the entry {deniedName}");
            await AnswerAsync(client, 403, "Forbidden", $"{EgressRefusedException.Display(host)}:{port} is refused by the egress policy.", cancellationToken);
            return;
        }

        Stream upstream;
        try
        {
            upstream = await _policy.ConnectAsync(new DnsEndPoint(host, port), _allowed, cancellationToken);
            // A denied range is judged on the address actually connected to, as the policy judges its own.
            if (_denied.Count > 0 && upstream is NetworkStream { Socket.RemoteEndPoint: IPEndPoint remote }
                && _denied.FirstOrDefault(d => d.DeniesAddress(remote.Address)) is { } deniedRange)
            {
                await upstream.DisposeAsync();
                LogRefused(_logger, who.Tag, method, $"{host}:{port}", $"{remote.Address} is denied by the entry {deniedRange}");
                await AnswerAsync(client, 403, "Forbidden", $"{EgressRefusedException.Display(host)}:{port} is refused by the egress policy.", cancellationToken);
                return;
            }
        }
        catch (EgressRefusedException e)
        {
            LogRefused(_logger, who.Tag, method, $"{host}:{port}", e.Reason);
            await AnswerAsync(client, 403, "Forbidden", $"{EgressRefusedException.Display(host)}:{port} is refused by the egress policy.", cancellationToken);
            return;
        }
        catch (EgressUnreachableException)
        {
            LogUnreachable(_logger, who.Tag, method, $"{host}:{port}");
            await AnswerAsync(client, 502, "Bad Gateway", $"{EgressRefusedException.Display(host)}:{port} is unreachable.", cancellationToken);
            return;
        }

        await using (upstream)
        {
            LogConnected(_logger, who.Tag, method, method == "CONNECT" ? $"{host}:{port}" : Shorten(target));
            if (method == "CONNECT")
            {
                await client.WriteAsync("HTTP/1.1 200 Connection Established\r\n\r\n"u8.ToArray(), cancellationToken);
            }
            else
            {
                await upstream.WriteAsync(Encoding.Latin1.GetBytes(OriginRequest(method, new Uri(target), requestLine[2], headers)), cancellationToken);
            }

            if (rest.Length > 0)
            {
                await upstream.WriteAsync(rest, cancellationToken);
            }

            await PipeAsync(client, upstream, cancellationToken);
        }
    }

    /// <summary>The request as the origin expects it: origin-form target, no proxy headers, one request per connection.</summary>
    private static string OriginRequest(string method, Uri url, string version, List<string> headers)
    {
        var text = new StringBuilder($"{method} {url.PathAndQuery} {version}\r\n");
        foreach (var header in headers)
        {
            var name = header[..Math.Max(0, header.IndexOf(':'))].Trim();
            if (name.Equals("Proxy-Authorization", StringComparison.OrdinalIgnoreCase)
                || name.Equals("Proxy-Connection", StringComparison.OrdinalIgnoreCase)
                || name.Equals("Connection", StringComparison.OrdinalIgnoreCase)
                || name.Equals("Keep-Alive", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            text.Append(header).Append("\r\n");
        }

        return text.Append("Connection: close\r\n\r\n").ToString();
    }

    /// <summary>Copies both ways until either side closes; then both are done.</summary>
    private static async Task PipeAsync(Stream client, Stream upstream, CancellationToken cancellationToken)
    {
        using var done = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var up = CopyAsync(client, upstream, done.Token);
        var down = CopyAsync(upstream, client, done.Token);
        await Task.WhenAny(up, down);
        await done.CancelAsync();
        await Task.WhenAll(up, down);
    }

    private static async Task CopyAsync(Stream from, Stream to, CancellationToken cancellationToken)
    {
        try
        {
            await from.CopyToAsync(to, 64 * 1024, cancellationToken);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    private ProxyClient? Authenticate(List<string> headers)
    {
        foreach (var header in headers)
        {
            const string Prefix = "Proxy-Authorization:";
            if (!header.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var value = header[Prefix.Length..].Trim();
            if (!value.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
            {
                return null;
            }

            try
            {
                var pair = Encoding.UTF8.GetString(Convert.FromBase64String(value[6..].Trim()));
                var colon = pair.IndexOf(':');
                return colon > 0
                    && _clients.TryGetValue(pair[..colon], out var client)
                    && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(pair[(colon + 1)..]), Encoding.UTF8.GetBytes(client.Password))
                    ? client
                    : null;
            }
            catch (FormatException)
            {
                return null;
            }
        }

        return null;
    }

    /// <summary>Reads up to the blank line ending the head; null when it does not come within the limit and time.</summary>
    private static async Task<(string? Head, byte[] Remainder)> ReadHeadAsync(NetworkStream client, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(HeadTimeout);
        var buffer = new byte[MaxHeadBytes];
        var length = 0;
        try
        {
            while (length < buffer.Length)
            {
                var read = await client.ReadAsync(buffer.AsMemory(length), deadline.Token);
                if (read == 0)
                {
                    return (null, []);
                }

                var searchFrom = Math.Max(0, length - 3);
                length += read;
                var end = buffer.AsSpan(searchFrom, length - searchFrom).IndexOf("\r\n\r\n"u8);
                if (end >= 0)
                {
                    end += searchFrom;
                    return (Encoding.Latin1.GetString(buffer, 0, end), buffer.AsSpan(end + 4, length - end - 4).ToArray());
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
        }

        return (null, []);
    }

    /// <summary>CONNECT's target: a host (a name, an IPv4 address or a bracketed IPv6 one) and an explicit port.</summary>
    private static bool TrySplitAuthority(string authority, out string host, out int port)
    {
        host = "";
        port = 0;
        var colon = authority.LastIndexOf(':');
        if (colon <= 0 || colon < authority.LastIndexOf(']') || !int.TryParse(authority.AsSpan(colon + 1), System.Globalization.NumberStyles.None, null, out port) || port is 0 or > 65535
            || !Uri.TryCreate($"http://{authority[..colon]}/", UriKind.Absolute, out var parsed) || parsed.UserInfo.Length > 0)
        {
            return false;
        }

        host = parsed.IdnHost;
        return host.Length > 0;
    }

    private static async Task AnswerAsync(Stream client, int status, string reason, string text, CancellationToken cancellationToken, string extraHeaders = "")
    {
        var body = Encoding.UTF8.GetBytes(text + "\n");
        var head = $"HTTP/1.1 {status} {reason}\r\n{extraHeaders}Content-Type: text/plain; charset=utf-8\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n";
        try
        {
            await client.WriteAsync(Encoding.ASCII.GetBytes(head), cancellationToken);
            await client.WriteAsync(body, cancellationToken);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
        }
    }

    private static string Shorten(string target) => target.Length <= 200 ? target : target[..200] + "…";

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stopping.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Egress proxy ({Client}): {Method} {Target}")]
    private static partial void LogConnected(ILogger logger, string client, string method, string target);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Egress proxy ({Client}): {Method} {Target} refused: {Reason}")]
    private static partial void LogRefused(ILogger logger, string client, string method, string target, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Egress proxy ({Client}): {Method} {Target} is unreachable")]
    private static partial void LogUnreachable(ILogger logger, string client, string method, string target);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Egress proxy: accepting a connection failed")]
    private static partial void LogAcceptFailed(ILogger logger, Exception exception);
}

/// <summary>Credentials of one client of the <see cref="EgressProxy"/> (Basic, as browsers send to proxies) and what its traffic is logged as.</summary>
public sealed record ProxyClient(string UserName, string Password, string Tag);
