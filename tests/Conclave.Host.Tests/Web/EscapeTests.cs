using System.Text.Json;
using Conclave.Testing;
using Npgsql;

namespace Conclave.Host.Tests.Web;

/// <summary>
/// A page on the allowed test site tries every route a script has to the Host's own port, PostgreSQL's port, a
/// loopback canary (TCP, both address families) and a UDP canary, under every spelling of loopback and the
/// metadata address; the canaries must receive nothing, and the egress proxy must have refused each attempt.
/// </summary>
[Collection(WebApp.Collection)]
public sealed class EscapeTests(WebApp app)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task No_script_request_websocket_or_webrtc_from_a_page_reaches_loopback_the_host_postgresql_or_metadata()
    {
        var canary = app.Canary.Port;
        var postgres = new NpgsqlConnectionStringBuilder(app.ConnectionString).Port;
        string[] targets =
        [
            $"http://127.0.0.1:{canary}", $"http://[::1]:{canary}", $"http://localhost:{canary}", $"http://{WebApp.LoopbackName}:{canary}",
            $"http://0x7f000001:{canary}", $"http://[::ffff:127.0.0.1]:{canary}", $"http://2130706433:{canary}",
            "http://169.254.169.254", $"http://127.0.0.1:{app.BaseAddress.Port}", $"http://127.0.0.1:{postgres}",
        ];
        var session = Guid.NewGuid();
        var url = app.Site.Url($"escape?udp={app.UdpCanary.Port}&targets={Uri.EscapeDataString(JsonSerializer.Serialize(targets))}");

        var opened = await app.CallAsync(session, "open_url", new { url = url.ToString() });
        await Eventually.Until(() => app.Site.Reports.Contains("escape-settled"), Deadline, "every escape attempt of the page settles");

        Assert.False(opened.Failed, opened.Text);
        Assert.Equal(0, await app.Canary.SettledConnectionsAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(0, app.UdpCanary.Datagrams);
        // Each refusal is logged with the session and the run (the proxy's client tag).
        var refusals = app.Logs.Lines.Where(l => l.Contains($"session {session}, run ", StringComparison.Ordinal) && l.Contains("refused", StringComparison.Ordinal)).ToList();
        foreach (var target in new[] { $"127.0.0.1:{canary}", $"{WebApp.LoopbackName}:{canary}", "169.254.169.254:80", $"127.0.0.1:{app.BaseAddress.Port}", $"127.0.0.1:{postgres}" })
        {
            Assert.Contains(refusals, l => l.Contains(target, StringComparison.Ordinal));
        }
    }

    [Theory]
    [InlineData("redirect")]
    [InlineData("direct")]
    public async Task Opening_loopback_directly_by_name_or_through_a_redirect_reaches_nothing(string how)
    {
        var canary = $"http://127.0.0.1:{app.Canary.Port}/";
        string[] urls = how == "redirect"
            ? [app.Site.Url($"redirect?to={Uri.EscapeDataString(canary)}").ToString(), app.Site.Url($"redirect?to={Uri.EscapeDataString($"http://{WebApp.LoopbackName}:{app.Canary.Port}/")}").ToString()]
            : [canary, $"http://localhost:{app.Canary.Port}/", $"http://{WebApp.LoopbackName}:{app.Canary.Port}/", $"http://0x7f000001:{app.Canary.Port}/", $"http://[::ffff:127.0.0.1]:{app.Canary.Port}/", "http://169.254.169.254/latest/meta-data/"];

        var session = Guid.NewGuid();
        foreach (var url in urls)
        {
            var result = await app.CallAsync(session, "open_url", new { url });
            Assert.True(result.Failed, $"{url}: {result.Text}");
        }

        Assert.Equal(0, await app.Canary.SettledConnectionsAsync(TimeSpan.FromSeconds(10)));
    }
}
