using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Conclave.Agents.Contracts;
using Conclave.Egress;
using Conclave.Testing;
using Conclave.Testing.Host;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Conclave.Host.Tests.Web;

/// <summary>
/// The Host on Kestrel (so it has a port of its own a page could aim at) with the real browser, the
/// <see cref="TestSite"/> allowed for the browser only, the site's <c>/search</c> as the SearXNG backend,
/// canaries on loopback (TCP on IPv4 and IPv6, and UDP) that nothing may reach, and outside DNS stood in
/// for by a resolver that knows <see cref="LoopbackName"/> as 127.0.0.1. Every log line is kept.
/// </summary>
public sealed class WebApp() : ConclaveApp(kestrel: true)
{
    public const string Collection = "web";

    /// <summary>A public-looking name that resolves to loopback.</summary>
    public const string LoopbackName = "rebind.test";

    /// <summary>Names of the site (they resolve to loopback and are allowed on its port): one plain, two under the denied domain.</summary>
    public static readonly string[] SiteNames = ["site.test", "denied.test", "www.denied.test"];

    public const string DeniedDomain = "denied.test";

    /// <summary>Each session's workspace quota: a download bigger than this is refused.</summary>
    public const long QuotaBytes = 2 * 1024 * 1024;

    public TestSite Site { get; private set; } = null!;

    public LoopbackListener Canary { get; private set; } = null!;

    public UdpCanary UdpCanary { get; private set; } = null!;

    public CapturedLogs Logs { get; } = new();

    public IToolSource Web => Services.GetServices<IToolSource>().OfType<Conclave.Web.Tools.WebTools>().Single();

    public override async Task InitializeAsync()
    {
        Site = await TestSite.StartAsync();
        Canary = LoopbackListener.Start();
        UdpCanary = UdpCanary.Start();
        await base.InitializeAsync();
    }

    protected override void AddSettings(IDictionary<string, string> settings)
    {
        // Test-only: the site is allowed for the browser; everything else keeps the default policy.
        settings["Conclave:Browser:AllowList:0"] = $"127.0.0.1:{Site.Port}";
        for (var i = 0; i < SiteNames.Length; i++)
        {
            settings[$"Conclave:Browser:AllowList:{i + 1}"] = $"{SiteNames[i]}:{Site.Port}";
        }

        settings["Conclave:Browser:DenyList:0"] = DeniedDomain;
        // 20 s, not the 30 s default: the never-loading page test waits for it; 10 s was seen to run out on a real form submit under the full run's load.
        settings["Conclave:Browser:CallTimeout"] = "00:00:20";
        settings["Conclave:Browser:MaxReadChars"] = "4000";
        settings["Conclave:Sandbox:WorkspaceQuotaBytes"] = QuotaBytes.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Conclave:WebSearch:Backend"] = "SearXNG";
        settings["Conclave:WebSearch:SearxngUrl"] = Site.BaseUrl.ToString();
        if (Environment.GetEnvironmentVariable("Conclave__Browser__ExecutablePath") is { } chromium)
        {
            settings["Conclave:Browser:ExecutablePath"] = chromium;
        }
    }

    protected override void ConfigureHost(IWebHostBuilder builder)
    {
        builder.ConfigureLogging(logging =>
        {
            logging.AddProvider(Logs);
            logging.AddFilter<CapturedLogs>(null, LogLevel.Information);
        });
        builder.ConfigureTestServices(services => services.AddSingleton<IDnsResolver>(new StandInDns()));
    }

    /// <summary>Calls a web tool as an agent of <paramref name="session"/> would.</summary>
    public Task<ToolResult> CallAsync(Guid session, string tool, object? arguments = null) =>
        Web.CallAsync(tool, JsonSerializer.SerializeToElement(arguments ?? new { }), new ToolCallContext(session, Guid.NewGuid(), DefaultUserId, "Researcher"), CancellationToken.None);

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Site.DisposeAsync();
        await Canary.DisposeAsync();
        UdpCanary.Dispose();
    }

    /// <summary>Outside DNS as the tests need it: <see cref="LoopbackName"/> is 127.0.0.1; other names go to the system resolver.</summary>
    private sealed class StandInDns : IDnsResolver
    {
        public Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken) =>
            string.Equals(host, LoopbackName, StringComparison.OrdinalIgnoreCase) || SiteNames.Contains(host, StringComparer.OrdinalIgnoreCase)
                ? Task.FromResult(new[] { IPAddress.Loopback })
                : Dns.GetHostAddressesAsync(host, cancellationToken);
    }
}

/// <summary>A UDP port on 127.0.0.1 that counts datagrams (a STUN/TURN server a page's WebRTC must not reach).</summary>
public sealed class UdpCanary : IDisposable
{
    private readonly UdpClient _socket;
    private readonly Task _loop;
    private int _datagrams;

    private UdpCanary(UdpClient socket)
    {
        _socket = socket;
        _loop = ReceiveAsync();
    }

    public int Port => ((IPEndPoint)_socket.Client.LocalEndPoint!).Port;

    public int Datagrams => Volatile.Read(ref _datagrams);

    public static UdpCanary Start() => new(new UdpClient(new IPEndPoint(IPAddress.Loopback, 0)));

    private async Task ReceiveAsync()
    {
        try
        {
            while (true)
            {
                await _socket.ReceiveAsync();
                Interlocked.Increment(ref _datagrams);
            }
        }
        catch (Exception e) when (e is ObjectDisposedException or SocketException)
        {
        }
    }

    public void Dispose()
    {
        _socket.Dispose();
        _loop.Wait(TimeSpan.FromSeconds(5));
    }
}

[CollectionDefinition(WebApp.Collection)]
public sealed class WebCollection : ICollectionFixture<WebApp>;
