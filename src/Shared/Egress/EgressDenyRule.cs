using System.Diagnostics.CodeAnalysis;
using System.Net;

namespace Conclave.Egress;

/// <summary>
/// One deny entry, stronger than any allow entry: a domain (<c>example.com</c>, which also denies its
/// subdomains, on every port) or an address or CIDR range (<c>203.0.113.7</c>, <c>198.51.100.0/24</c>,
/// <c>2001:db8::/32</c>), judged on the address actually connected to.
/// </summary>
public sealed class EgressDenyRule
{
    private readonly string _text;

    private EgressDenyRule(string? domain, IPNetwork? network, string text)
    {
        Domain = domain;
        Network = network;
        _text = text;
    }

    public string? Domain { get; }

    public IPNetwork? Network { get; }

    public static bool TryParse(string? entry, [NotNullWhen(true)] out EgressDenyRule? rule, [NotNullWhen(false)] out string? error)
    {
        rule = null;
        var text = entry?.Trim() ?? "";
        if (text.Length == 0)
        {
            error = "The entry is empty.";
            return false;
        }

        if (IPNetwork.TryParse(text.Trim('[', ']'), out var network))
        {
            rule = new EgressDenyRule(null, network, text);
            error = null;
            return true;
        }

        if (IPAddress.TryParse(text.Trim('[', ']'), out var address))
        {
            rule = new EgressDenyRule(null, new IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128), text);
            error = null;
            return true;
        }

        var domain = EgressRule.NormalHost(text.StartsWith("*.", StringComparison.Ordinal) ? text[2..] : text);
        if (Uri.CheckHostName(domain) != UriHostNameType.Dns || domain.Contains(':'))
        {
            error = $"'{text}' is neither a domain, an address nor a CIDR range.";
            return false;
        }

        rule = new EgressDenyRule(domain, null, text);
        error = null;
        return true;
    }

    /// <summary>The name is the domain or one of its subdomains.</summary>
    public bool DeniesName(string host)
    {
        if (Domain is null)
        {
            return false;
        }

        var name = EgressRule.NormalHost(host);
        return name == Domain || name.EndsWith("." + Domain, StringComparison.Ordinal);
    }

    /// <summary>The address (IPv4-mapped IPv6 judged by its IPv4 address) is in the range.</summary>
    public bool DeniesAddress(IPAddress address)
    {
        if (Network is not { } network)
        {
            return false;
        }

        var plain = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        return network.Contains(plain);
    }

    public override string ToString() => _text;
}
