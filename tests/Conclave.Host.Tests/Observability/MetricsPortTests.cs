using System.Net;
using System.Net.Sockets;
using Conclave.Testing.Host;

namespace Conclave.Host.Tests.Observability;

/// <summary>A Host with Conclave:Metrics:Port and no scrape token.</summary>
public sealed class MetricsPortApp : ConclaveApp
{
    public int MetricsPort { get; } = FreePort();

    protected override void AddSettings(IDictionary<string, string> settings) =>
        settings["Conclave:Metrics:Port"] = MetricsPort.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }
}

/// <summary>Conclave:Metrics:Port (0012) still serves every meter on a port of its own; the public port then serves none.</summary>
public sealed class MetricsPortTests(MetricsPortApp app) : IClassFixture<MetricsPortApp>
{
    [Fact]
    public async Task The_metrics_port_serves_the_meters_without_a_token_and_the_public_port_serves_none()
    {
        // A request first, so ASP.NET Core's instruments have a series.
        using var anonymous = app.CreateAnonymousClient();
        using var publicScrape = await anonymous.GetAsync("/metrics");
        using var metrics = new HttpClient();

        var text = await metrics.GetStringAsync($"http://127.0.0.1:{app.MetricsPort}/metrics");

        Assert.NotEqual(HttpStatusCode.OK, publicScrape.StatusCode);
        Assert.DoesNotContain("# TYPE", await publicScrape.Content.ReadAsStringAsync());
        Assert.Contains("\nconclave_runs_queued", text);
        Assert.Contains("http_server_request_duration_seconds_count", text);
    }
}
