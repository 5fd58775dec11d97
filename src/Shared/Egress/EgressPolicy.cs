using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Conclave.Egress;

/// <summary>
/// Decides every outbound connection made for a user. The decision is taken when connecting, on
/// the address actually connected to (the name is resolved here and every answer checked), so a
/// name that resolves to the internet when saved and to loopback later (DNS rebinding) gains
/// nothing. Local, private, link-local, CGNAT, multicast, reserved addresses and their IPv6 forms
/// (<see cref="AddressRanges"/>) are refused unless the admin's allow-list or a caller's trusted
/// endpoint (the installation's own default provider) permits them. See docs/adr/0008-egress-policy.md.
/// </summary>
public sealed class EgressPolicy
{
    /// <summary>Names that mean this machine or a local network by definition (RFC 6761, 6762, 8375; ICANN's private-use .internal).</summary>
    private static readonly string[] LocalSuffixes = [".localhost", ".local", ".localdomain", ".internal", ".home.arpa"];

    private readonly IOptionsMonitor<EgressOptions> _options;
    private readonly IDnsResolver _dns;
    private readonly ILogger<EgressPolicy> _logger;
    private volatile IReadOnlyList<EgressRule> _allowList;

    public EgressPolicy(IOptionsMonitor<EgressOptions> options, IDnsResolver dns, ILogger<EgressPolicy> logger)
    {
        _options = options;
        _dns = dns;
        _logger = logger;
        _allowList = Parse(options.CurrentValue);
        options.OnChange(changed => _allowList = Parse(changed));
    }

    /// <summary>The admin's allow-list, as configured in <c>Conclave:Egress:AllowList</c>.</summary>
    public IReadOnlyList<EgressRule> AllowList => _allowList;

    /// <summary>Why a connection to <paramref name="address"/> (reached as <paramref name="host"/>:<paramref name="port"/>) is refused, or null when it is allowed.</summary>
    public DeniedRange? RefusalOf(string host, IPAddress address, int port, IReadOnlyList<EgressRule> trusted)
    {
        if (trusted.Any(r => r.Permits(host, address, port)) || _allowList.Any(r => r.Permits(host, address, port)))
        {
            return null;
        }

        return AddressRanges.DeniedRangeOf(address);
    }

    /// <summary>
    /// The check when a user saves an endpoint, before any connection: a literal address (in any of
    /// the forms <see cref="Uri"/> reads, e.g. <c>0x7f000001</c> or <c>[::ffff:127.0.0.1]</c>) in a
    /// denied range, or a name that is local by definition (<c>localhost</c>, <c>*.internal</c>, a
    /// single label). Returns what to tell the user, or null. Other names are checked when connecting:
    /// what they resolve to may change.
    /// </summary>
    public string? RefusalOf(Uri url, IReadOnlyList<EgressRule> trusted)
    {
        var host = EgressRule.NormalHost(url.IdnHost);
        var port = url.Port;
        var allowHint = $"An admin can allow it in {EgressOptions.Section}:AllowList.";
        if (IPAddress.TryParse(host, out var address))
        {
            return RefusalOf(host, address, port, trusted) is { } range
                ? $"{url.Host} is a {range.Name} address ({range.Range}): the Host does not connect there for users. {allowHint}"
                : null;
        }

        var local = host == "localhost" || !host.Contains('.') || LocalSuffixes.Any(s => host.EndsWith(s, StringComparison.Ordinal));
        if (local && !trusted.Any(r => r.PermitsName(host, port)) && !_allowList.Any(r => r.PermitsName(host, port)))
        {
            return $"'{host}' names this machine or a local network: the Host does not connect there for users. " +
                $"An admin can allow it (e.g. {host}:{port}) in {EgressOptions.Section}:AllowList.";
        }

        return null;
    }

    /// <summary>
    /// A handler whose every connection goes through <see cref="ConnectAsync"/>, which follows no
    /// redirect (a 3xx is the caller's answer, never a second request somewhere else) and uses no
    /// proxy (a proxy's address would be the one checked, not the destination's).
    /// </summary>
    /// <param name="trusted">Endpoints this caller trusts besides the allow-list, read at each connection.</param>
    public SocketsHttpHandler CreateHandler(Func<IReadOnlyList<EgressRule>>? trusted = null) => new()
    {
        AllowAutoRedirect = false,
        UseProxy = false,
        ConnectCallback = (context, cancellationToken) => ConnectAsync(context.DnsEndPoint, trusted?.Invoke() ?? [], cancellationToken),
    };

    /// <summary>
    /// Resolves <paramref name="endpoint"/>, checks every address and connects to the first allowed
    /// one that answers. Throws <see cref="EgressRefusedException"/> when no address is allowed and
    /// <see cref="EgressUnreachableException"/> for every other failure, whatever the cause.
    /// </summary>
    public async ValueTask<Stream> ConnectAsync(DnsEndPoint endpoint, IReadOnlyList<EgressRule> trusted, CancellationToken cancellationToken)
    {
        var host = endpoint.Host;
        var port = endpoint.Port;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_options.CurrentValue.ConnectTimeout);

        var literal = IPAddress.TryParse(host.Trim('[', ']'), out var given);
        IPAddress[] addresses;
        try
        {
            addresses = literal ? [given!] : await _dns.ResolveAsync(host, deadline.Token);
        }
        catch (Exception e) when (e is SocketException or ArgumentException || e is OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            _logger.LogDebug("Egress to {Host}:{Port}: the name did not resolve ({Error})", host, port, e.Message);
            var trustedName = trusted.Any(r => r.PermitsName(host, port));
            throw new EgressUnreachableException(host, port, trustedName ? CauseOf(e) : null);
        }

        var allowed = new List<IPAddress>();
        DeniedRange? refused = null;
        foreach (var address in addresses)
        {
            if (RefusalOf(host, address, port, trusted) is { } range)
            {
                refused ??= range;
                _logger.LogDebug("Egress to {Host}:{Port}: {Address} refused ({Range}, {Name})", host, port, address, range.Range, range.Name);
            }
            else
            {
                allowed.Add(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address);
            }
        }

        if (allowed.Count == 0)
        {
            if (refused is null)
            {
                throw new EgressUnreachableException(host, port);
            }

            throw new EgressRefusedException(host, port, literal ? refused : null);
        }

        SocketError? cause = null;
        foreach (var address in allowed)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, port), deadline.Token);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (Exception e) when (e is SocketException || e is OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                socket.Dispose();
                _logger.LogDebug("Egress to {Host}:{Port}: connecting to {Address} failed ({Error})", host, port, address, e.Message);
                if (trusted.Any(r => r.Permits(host, address, port)))
                {
                    cause = CauseOf(e);
                }
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        throw new EgressUnreachableException(host, port, cause);
    }

    private static SocketError CauseOf(Exception e) => e switch
    {
        SocketException socket => socket.SocketErrorCode,
        OperationCanceledException => SocketError.TimedOut,
        _ => SocketError.HostNotFound,
    };

    private static IReadOnlyList<EgressRule> Parse(EgressOptions options) =>
        options.AllowList.Select(e => EgressRule.TryParse(e, out var rule, out _) ? rule : null).OfType<EgressRule>().ToList();
}
