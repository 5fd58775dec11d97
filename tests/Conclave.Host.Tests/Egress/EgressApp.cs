using System.Net;
using System.Net.Sockets;
using Conclave.Egress;
using Conclave.Testing;
using Conclave.Testing.Host;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Conclave.Host.Tests.Egress;

/// <summary>
/// The Host with loopback services around it, and an egress configuration stated in full: the
/// default provider (<see cref="ConclaveApp.Provider"/>) is trusted as the installation's own and is
/// NOT allow-listed; a user's provider on loopback (<see cref="AllowedProvider"/>), the
/// <see cref="RedirectTarget"/>, <see cref="NotAProvider"/> and the <see cref="ClosedPort"/> are allow-listed by port; the
/// <see cref="Internal"/> service is allowed by nothing. Outside DNS is stood in for by a resolver
/// that knows <c>rebind.test</c> as 127.0.0.1 (a public-looking name rebound to loopback).
/// </summary>
public sealed class EgressApp : ConclaveApp
{
    public const string RebindingName = "rebind.test";

    /// <summary>An internal service on loopback: no rule allows it, so it must never see a connection.</summary>
    public LoopbackListener Internal { get; private set; } = null!;

    /// <summary>Allow-listed, so only the rule that redirects are not followed keeps a redirect from reaching it.</summary>
    public LoopbackListener RedirectTarget { get; private set; } = null!;

    /// <summary>A user's own OpenAI-compatible endpoint on loopback, allowed by the allow-list (like a local Ollama).</summary>
    public ScriptedOpenAiServer AllowedProvider { get; private set; } = null!;

    /// <summary>Allow-listed, listening, and no provider at all (it closes every connection at once).</summary>
    public LoopbackListener NotAProvider { get; private set; } = null!;

    /// <summary>An allow-listed loopback port nothing listens on.</summary>
    public int ClosedPort { get; private set; }

    public override async Task InitializeAsync()
    {
        Internal = LoopbackListener.Start();
        RedirectTarget = LoopbackListener.Start();
        NotAProvider = LoopbackListener.Start();
        AllowedProvider = await ScriptedOpenAiServer.StartAsync();
        using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            ClosedPort = ((IPEndPoint)probe.LocalEndPoint!).Port;
        }

        await base.InitializeAsync();
    }

    protected override void AddSettings(IDictionary<string, string> settings)
    {
        // Replaces the base fixture's entry for the default provider's port: here it is trusted only as the default.
        settings["Conclave:Egress:AllowList:0"] = $"127.0.0.1:{AllowedProvider.BaseUrl.Port}";
        settings["Conclave:Egress:AllowList:1"] = $"127.0.0.1:{RedirectTarget.Port}";
        settings["Conclave:Egress:AllowList:2"] = $"127.0.0.1:{ClosedPort}";
        settings["Conclave:Egress:AllowList:3"] = $"127.0.0.1:{NotAProvider.Port}";
    }

    protected override void ConfigureHost(IWebHostBuilder builder) =>
        builder.ConfigureTestServices(services => services.AddSingleton<IDnsResolver>(new StandInDns()));

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Internal.DisposeAsync();
        await RedirectTarget.DisposeAsync();
        await NotAProvider.DisposeAsync();
        await AllowedProvider.DisposeAsync();
    }

    /// <summary>Outside DNS as the tests need it: <see cref="RebindingName"/> is 127.0.0.1; other names go to the system resolver (localhost).</summary>
    private sealed class StandInDns : IDnsResolver
    {
        public Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken) =>
            string.Equals(host, RebindingName, StringComparison.OrdinalIgnoreCase)
                ? Task.FromResult(new[] { IPAddress.Loopback })
                : Dns.GetHostAddressesAsync(host, cancellationToken);
    }
}
