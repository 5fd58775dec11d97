using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Conclave.Egress;

/// <summary>
/// One allow-list entry: a host name with its port (<c>localhost:11434</c>: whatever the name
/// resolves to, on that port), or an address or CIDR range, optionally with a port
/// (<c>10.1.0.0/16</c>, <c>10.1.2.3:8000</c>, <c>10.1.0.0/16:8000</c>, <c>[fd00::/8]:8000</c>).
/// </summary>
public sealed class EgressRule
{
    private EgressRule(string? host, IPNetwork? network, int? port, string text)
    {
        Host = host;
        Network = network;
        Port = port;
        _text = text;
    }

    private readonly string _text;

    /// <summary>The host name this rule allows (lower case, no trailing dot); null for an address rule.</summary>
    public string? Host { get; }

    /// <summary>The addresses this rule allows; null for a host name rule.</summary>
    public IPNetwork? Network { get; }

    /// <summary>The one port allowed; null for every port (address rules only).</summary>
    public int? Port { get; }

    /// <summary>Allows exactly the endpoint (host and port) of <paramref name="url"/>, e.g. a trusted default provider.</summary>
    public static EgressRule ForEndpoint(Uri url)
    {
        var host = NormalHost(url.IdnHost);
        return IPAddress.TryParse(host, out var address)
            ? new EgressRule(null, Single(address), url.Port, $"{url.Host}:{url.Port}")
            : new EgressRule(host, null, url.Port, $"{host}:{url.Port}");
    }

    public static bool TryParse(string? entry, [NotNullWhen(true)] out EgressRule? rule, [NotNullWhen(false)] out string? error)
    {
        rule = null;
        var text = entry?.Trim() ?? "";
        if (!Split(text, out var hostPart, out var portPart, out error))
        {
            return false;
        }

        int? port = null;
        if (portPart is not null)
        {
            if (!int.TryParse(portPart, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number is < 1 or > 65535)
            {
                error = $"'{portPart}' is not a port (1-65535).";
                return false;
            }

            port = number;
        }

        if (hostPart.Contains('/'))
        {
            if (!IPNetwork.TryParse(hostPart, out var network))
            {
                error = $"'{hostPart}' is not a CIDR range: write its first address and prefix length, e.g. 10.1.0.0/16 or fd00::/8.";
                return false;
            }

            if (!IPAddress.TryParse(hostPart[..hostPart.IndexOf('/')], out var first) || !first.Equals(network.BaseAddress))
            {
                error = $"'{hostPart}' is not a CIDR range: its address has bits past the prefix; did you mean {network}?";
                return false;
            }

            rule = new EgressRule(null, network, port, text);
            return true;
        }

        if (IPAddress.TryParse(hostPart, out var address))
        {
            rule = new EgressRule(null, Single(address), port, text);
            return true;
        }

        var host = NormalHost(hostPart);
        if (Uri.CheckHostName(host) != UriHostNameType.Dns)
        {
            error = $"'{hostPart}' is neither a host name, an address nor a CIDR range.";
            return false;
        }

        if (port is null)
        {
            error = $"Give the port too, e.g. {host}:11434: allowing every port of a host would open all its services (its database too).";
            return false;
        }

        rule = new EgressRule(host, null, port, text);
        return true;
    }

    /// <summary>Whether a connection to <paramref name="address"/>, reached by the name <paramref name="host"/>, on <paramref name="port"/> is allowed.</summary>
    public bool Permits(string host, IPAddress address, int port)
    {
        if (Port is { } only && only != port)
        {
            return false;
        }

        if (Host is not null)
        {
            return Host == NormalHost(host);
        }

        return Network!.Value.Contains(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address);
    }

    /// <summary>Whether the rule allows the name <paramref name="host"/> on <paramref name="port"/> without knowing its address (host name rules only).</summary>
    public bool PermitsName(string host, int port) => Host is not null && Host == NormalHost(host) && Port == port;

    public override string ToString() => _text;

    /// <summary>Lower case, without brackets or a trailing dot ("LocalHost." and "localhost" are one name).</summary>
    internal static string NormalHost(string host) => host.Trim('[', ']').TrimEnd('.').ToLowerInvariant();

    private static IPNetwork Single(IPAddress address)
    {
        var plain = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        return new IPNetwork(plain, plain.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);
    }

    /// <summary>"[v6 or v6/n]:port", "host:port", "a.b.c.d/n:port", or one of those without the port (a bare IPv6 address or range has no port).</summary>
    private static bool Split(string text, out string host, out string? port, [NotNullWhen(false)] out string? error)
    {
        host = text;
        port = null;
        error = null;
        if (text.Length == 0)
        {
            error = "The entry is empty.";
            return false;
        }

        if (text.StartsWith('['))
        {
            var close = text.IndexOf(']');
            var rest = close < 0 ? "" : text[(close + 1)..];
            if (close < 0 || rest.Length > 0 && !rest.StartsWith(':'))
            {
                error = "Write an IPv6 address or range with its port as [fd00::1]:8000 or [fd00::/8]:8000.";
                return false;
            }

            host = text[1..close];
            port = rest.Length > 0 ? rest[1..] : null;
            return true;
        }

        var colons = text.Count(c => c == ':');
        if (colons == 1)
        {
            var at = text.IndexOf(':');
            host = text[..at];
            port = text[(at + 1)..];
        }

        return true;
    }
}
