using System.Net;
using Conclave.Egress;

namespace Conclave.Host.Tests.Web;

/// <summary>An admin's deny entries beat allow entries: for a domain and its subdomains, and for address ranges.</summary>
[Collection(WebApp.Collection)]
public sealed class DenyListTests(WebApp app)
{
    [Fact]
    public async Task A_denied_domain_and_its_subdomains_are_refused_though_allowed_while_another_name_of_the_site_opens()
    {
        var session = Guid.NewGuid();

        var plain = await app.CallAsync(session, "open_url", new { url = $"http://site.test:{app.Site.Port}/form" });
        var denied = await app.CallAsync(session, "open_url", new { url = $"http://denied.test:{app.Site.Port}/form" });
        var sub = await app.CallAsync(session, "open_url", new { url = $"http://www.denied.test:{app.Site.Port}/form" });
        var redirected = await app.CallAsync(session, "open_url", new { url = app.Site.Url($"redirect?to={Uri.EscapeDataString($"http://www.denied.test:{app.Site.Port}/form")}").ToString() });

        Assert.False(plain.Failed, plain.Text);
        Assert.Contains("Question form", plain.Text, StringComparison.Ordinal);
        Assert.True(denied.Failed);
        Assert.Contains("denied by the administrator's deny list (denied.test)", denied.Text, StringComparison.Ordinal);
        Assert.True(sub.Failed);
        // A redirect is the proxy's to refuse: the page answers 403.
        Assert.True(redirected.Failed, redirected.Text);
        Assert.Contains(app.Logs.Lines, l => l.Contains($"session {session}", StringComparison.Ordinal) && l.Contains("denied by the entry denied.test", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("198.51.100.0/24", "198.51.100.7", true)]
    [InlineData("198.51.100.0/24", "::ffff:198.51.100.7", true)]
    [InlineData("198.51.100.0/24", "198.51.101.7", false)]
    [InlineData("[2001:db8::/32]", "2001:db8::1", true)]
    [InlineData("203.0.113.9", "203.0.113.9", true)]
    public void A_range_entry_denies_the_addresses_in_it_whatever_their_spelling(string entry, string address, bool denied)
    {
        Assert.True(EgressDenyRule.TryParse(entry, out var rule, out var error), error);

        Assert.Equal(denied, rule.DeniesAddress(IPAddress.Parse(address)));
    }

    [Theory]
    [InlineData("example.com", "example.com", true)]
    [InlineData("example.com", "WWW.Example.COM.", true)]
    [InlineData("*.example.com", "a.b.example.com", true)]
    [InlineData("example.com", "notexample.com", false)]
    public void A_domain_entry_denies_the_domain_and_its_subdomains(string entry, string host, bool denied)
    {
        Assert.True(EgressDenyRule.TryParse(entry, out var rule, out var error), error);

        Assert.Equal(denied, rule.DeniesName(host));
    }

    [Theory]
    [InlineData("")]
    [InlineData("exa mple.com")]
    [InlineData("example.com:80")]
    public void A_malformed_deny_entry_is_refused(string entry)
    {
        Assert.False(EgressDenyRule.TryParse(entry, out _, out var error));
        Assert.NotEmpty(error);
    }
}
