using System.Net;
using System.Net.Sockets;

namespace Conclave.Egress;

/// <summary>A range of addresses the egress policy denies, and what it is.</summary>
/// <param name="Range">The range in CIDR notation, e.g. <c>127.0.0.0/8</c>.</param>
/// <param name="Name">What the range is, in a user's words, e.g. "loopback".</param>
public sealed record DeniedRange(string Range, string Name);

/// <summary>
/// Which addresses are not "somewhere on the internet": loopback, private, link-local (where cloud
/// metadata services answer), carrier-grade NAT, multicast, broadcast, unspecified, reserved and
/// documentation ranges, and every IPv6 form that carries one of those IPv4 addresses inside it
/// (IPv4-mapped, NAT64, 6to4). IPv6 outside global unicast (2000::/3) is denied as a whole.
/// </summary>
public static class AddressRanges
{
    private static readonly (IPNetwork Network, DeniedRange Range)[] V4 = Table(
        ("0.0.0.0/8", "unspecified (\"this network\")"),
        ("10.0.0.0/8", "private"),
        ("100.64.0.0/10", "carrier-grade NAT"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local (cloud metadata)"),
        ("172.16.0.0/12", "private"),
        ("192.0.0.0/24", "IETF protocol assignments"),
        ("192.0.2.0/24", "documentation"),
        ("192.88.99.0/24", "6to4 relay"),
        ("192.168.0.0/16", "private"),
        ("198.18.0.0/15", "benchmarking"),
        ("198.51.100.0/24", "documentation"),
        ("203.0.113.0/24", "documentation"),
        ("224.0.0.0/4", "multicast"),
        ("255.255.255.255/32", "broadcast"),
        ("240.0.0.0/4", "reserved"));

    private static readonly (IPNetwork Network, DeniedRange Range)[] V6 = Table(
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("::/96", "IPv4-compatible (deprecated)"),
        ("100::/64", "discard-only"),
        ("2001:db8::/32", "documentation"),
        ("2001::/23", "IETF protocol assignments (Teredo, benchmarking, ORCHID)"),
        ("3fff::/20", "documentation"),
        ("fc00::/7", "unique local (private)"),
        ("fe80::/10", "link-local"),
        ("fec0::/10", "site-local (deprecated)"),
        ("ff00::/8", "multicast"));

    private static readonly IPNetwork GlobalUnicast = IPNetwork.Parse("2000::/3");
    private static readonly IPNetwork Nat64 = IPNetwork.Parse("64:ff9b::/96");
    private static readonly IPNetwork Nat64Local = IPNetwork.Parse("64:ff9b:1::/48");
    private static readonly IPNetwork SixToFour = IPNetwork.Parse("2002::/16");

    /// <summary>Every denied range, IPv4 first, as the admin page lists them.</summary>
    public static IReadOnlyList<DeniedRange> Denied { get; } =
    [
        .. V4.Select(r => r.Range),
        .. V6.Select(r => r.Range),
        new("::ffff:0:0/96, 64:ff9b::/96, 64:ff9b:1::/48, 2002::/16", "IPv4-mapped, NAT64 and 6to4 forms of the IPv4 ranges above"),
        new("outside 2000::/3", "reserved (not global unicast)"),
    ];

    /// <summary>The denied range <paramref name="address"/> is in, or null for an address on the internet.</summary>
    public static DeniedRange? DeniedRangeOf(IPAddress address)
    {
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            return Find(V4, address);
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return new DeniedRange(address.AddressFamily.ToString(), "not an IP address");
        }

        if (address.IsIPv4MappedToIPv6)
        {
            return Embedded(address.MapToIPv4(), "IPv4-mapped");
        }

        var bytes = address.GetAddressBytes();
        if (Nat64.Contains(address) || Nat64Local.Contains(address))
        {
            return Embedded(new IPAddress(bytes.AsSpan(12, 4)), "NAT64");
        }

        if (SixToFour.Contains(address))
        {
            return Embedded(new IPAddress(bytes.AsSpan(2, 4)), "6to4");
        }

        return Find(V6, address)
            ?? (GlobalUnicast.Contains(address) ? null : new DeniedRange("outside 2000::/3", "reserved (not global unicast)"));
    }

    private static DeniedRange? Embedded(IPAddress v4, string form) =>
        Find(V4, v4) is { } range ? range with { Name = $"{range.Name}, in its {form} IPv6 form" } : null;

    private static DeniedRange? Find((IPNetwork Network, DeniedRange Range)[] table, IPAddress address)
    {
        foreach (var (network, range) in table)
        {
            if (network.Contains(address))
            {
                return range;
            }
        }

        return null;
    }

    private static (IPNetwork, DeniedRange)[] Table(params (string Cidr, string Name)[] ranges) =>
        ranges.Select(r => (IPNetwork.Parse(r.Cidr), new DeniedRange(r.Cidr, r.Name))).ToArray();
}
