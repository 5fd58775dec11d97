using System.Net;
using Conclave.Egress;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Conclave.Host.Tests.Egress;

/// <summary>The address classifier and the allow-list entries, on their own.</summary>
public sealed class AddressRangesTests
{
    [Theory]
    [InlineData("0.0.0.0", "unspecified")]
    [InlineData("0.1.2.3", "unspecified")]
    [InlineData("10.0.0.1", "private")]
    [InlineData("10.255.255.255", "private")]
    [InlineData("100.64.0.1", "carrier-grade NAT")]
    [InlineData("100.127.255.254", "carrier-grade NAT")]
    [InlineData("127.0.0.1", "loopback")]
    [InlineData("127.255.0.9", "loopback")]
    [InlineData("169.254.169.254", "link-local")]
    [InlineData("172.16.0.1", "private")]
    [InlineData("172.31.255.255", "private")]
    [InlineData("192.0.0.8", "IETF")]
    [InlineData("192.0.2.1", "documentation")]
    [InlineData("192.88.99.1", "6to4 relay")]
    [InlineData("192.168.0.1", "private")]
    [InlineData("198.18.0.1", "benchmarking")]
    [InlineData("198.51.100.7", "documentation")]
    [InlineData("203.0.113.9", "documentation")]
    [InlineData("224.0.0.1", "multicast")]
    [InlineData("239.255.255.250", "multicast")]
    [InlineData("240.0.0.1", "reserved")]
    [InlineData("255.255.255.255", "broadcast")]
    [InlineData("::", "unspecified")]
    [InlineData("::1", "loopback")]
    [InlineData("::127.0.0.1", "IPv4-compatible")]
    [InlineData("::ffff:127.0.0.1", "loopback, in its IPv4-mapped IPv6 form")]
    [InlineData("::ffff:10.1.2.3", "private, in its IPv4-mapped IPv6 form")]
    [InlineData("::ffff:169.254.169.254", "link-local (cloud metadata), in its IPv4-mapped IPv6 form")]
    [InlineData("64:ff9b::7f00:1", "loopback, in its NAT64 IPv6 form")]
    [InlineData("64:ff9b::a9fe:a9fe", "link-local (cloud metadata), in its NAT64 IPv6 form")]
    [InlineData("64:ff9b:1::a00:1", "private, in its NAT64 IPv6 form")]
    [InlineData("2002:7f00:1::1", "loopback, in its 6to4 IPv6 form")]
    [InlineData("2002:c0a8:101::1", "private, in its 6to4 IPv6 form")]
    [InlineData("100::1", "discard-only")]
    [InlineData("2001::1", "Teredo")]
    [InlineData("2001:db8::1", "documentation")]
    [InlineData("3fff::1", "documentation")]
    [InlineData("fc00::1", "unique local")]
    [InlineData("fd00::2", "unique local")]
    [InlineData("fe80::1", "link-local")]
    [InlineData("febf::1", "link-local")]
    [InlineData("fec0::1", "site-local")]
    [InlineData("ff02::1", "multicast")]
    [InlineData("4000::1", "not global unicast")]
    [InlineData("::2", "IPv4-compatible")]
    public void A_local_private_or_reserved_address_is_denied_with_its_range_named(string address, string name)
    {
        var range = AddressRanges.DeniedRangeOf(IPAddress.Parse(address));

        Assert.NotNull(range);
        Assert.Contains(name, range.Name);
    }

    [Theory]
    [InlineData("8.8.8.8")]
    [InlineData("1.1.1.1")]
    [InlineData("100.63.255.255")]
    [InlineData("100.128.0.1")]
    [InlineData("172.15.255.255")]
    [InlineData("172.32.0.1")]
    [InlineData("169.253.1.1")]
    [InlineData("11.0.0.1")]
    [InlineData("223.255.255.254")]
    [InlineData("2606:4700:4700::1111")]
    [InlineData("2a00:1450:4001:82a::200e")]
    [InlineData("::ffff:8.8.8.8")]
    [InlineData("64:ff9b::808:808")]
    [InlineData("2002:808:808::1")]
    public void An_address_on_the_internet_is_not_denied(string address)
    {
        Assert.Null(AddressRanges.DeniedRangeOf(IPAddress.Parse(address)));
    }

    [Theory]
    [InlineData("localhost:11434", "localhost", "127.0.0.1", 11434, true)]
    [InlineData("localhost:11434", "LocalHost.", "::1", 11434, true)]
    [InlineData("localhost:11434", "localhost", "127.0.0.1", 5432, false)]
    [InlineData("localhost:11434", "127.0.0.1", "127.0.0.1", 11434, false)]
    [InlineData("127.0.0.1:11434", "127.0.0.1", "127.0.0.1", 11434, true)]
    [InlineData("127.0.0.1:11434", "x", "::ffff:127.0.0.1", 11434, true)]
    [InlineData("127.0.0.1:11434", "127.0.0.2", "127.0.0.2", 11434, false)]
    [InlineData("10.1.0.0/16", "vllm", "10.1.200.3", 8000, true)]
    [InlineData("10.1.0.0/16", "vllm", "10.2.0.3", 8000, false)]
    [InlineData("10.1.0.0/16:8000", "vllm", "10.1.0.3", 8000, true)]
    [InlineData("10.1.0.0/16:8000", "vllm", "10.1.0.3", 5432, false)]
    [InlineData("[fd00::/8]:8000", "vllm", "fd12::3", 8000, true)]
    [InlineData("[fd00::/8]:8000", "vllm", "fd12::3", 22, false)]
    [InlineData("fd00::/8", "vllm", "fd12::3", 22, true)]
    [InlineData("[::1]:11434", "localhost", "::1", 11434, true)]
    public void An_allow_list_entry_permits_exactly_its_host_or_range_and_port(string entry, string host, string address, int port, bool permitted)
    {
        Assert.True(EgressRule.TryParse(entry, out var rule, out var error), error);

        Assert.Equal(permitted, rule.Permits(host, IPAddress.Parse(address), port));
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("localhost", "Give the port")]
    [InlineData("localhost:0", "not a port")]
    [InlineData("localhost:70000", "not a port")]
    [InlineData("localhost:http", "not a port")]
    [InlineData("10.1.2.3/16", "did you mean 10.1.0.0/16?")]
    [InlineData("10.0.0.0/33", "not a CIDR range")]
    [InlineData("[fd00::1", "[fd00::1]:8000")]
    [InlineData("bad host!:80", "neither a host name")]
    public void A_malformed_allow_list_entry_is_refused_saying_what_is_wrong(string entry, string message)
    {
        Assert.False(EgressRule.TryParse(entry, out _, out var error));

        Assert.Contains(message, error);
    }

    [Fact]
    public void The_host_does_not_start_with_a_malformed_allow_list_and_says_which_entry()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Conclave:Egress:AllowList:0"] = "localhost:11434",
            ["Conclave:Egress:AllowList:1"] = "localhost",
        }).Build();
        using var services = new ServiceCollection().AddLogging().AddEgressPolicy(configuration).BuildServiceProvider();

        var failure = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<EgressOptions>>().Value);

        var message = Assert.Single(failure.Failures);
        Assert.Contains("Conclave:Egress:AllowList:1 ('localhost')", message);
        Assert.Contains("Give the port", message);
    }

    [Theory]
    [InlineData("http://127.0.0.1:11434/v1/", true)]
    [InlineData("http://0x7f000001/v1/", true)]
    [InlineData("http://[::ffff:127.0.0.1]/v1/", true)]
    [InlineData("http://localhost:11434/v1/", false)]
    [InlineData("http://localhost:11435/v1/", true)]
    [InlineData("http://api.openai.com/v1/", false)]
    [InlineData("http://8.8.8.8/v1/", false)]
    public void A_url_is_checked_when_saved_by_its_literal_address_or_local_name(string url, bool refused)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Conclave:Egress:AllowList:0"] = "localhost:11434",
        }).Build();
        using var services = new ServiceCollection().AddLogging().AddEgressPolicy(configuration).BuildServiceProvider();
        var policy = services.GetRequiredService<EgressPolicy>();

        Assert.Equal(refused, policy.RefusalOf(new Uri(url), []) is not null);
    }
}
