using Conclave.Testing;
using Conclave.Testing.Host;

namespace Conclave.Host.Tests.McpTools;

/// <summary>The Host with two real MCP servers on loopback, each allowed by its port in the egress allow-list.</summary>
public sealed class McpToolsApp : ConclaveApp
{
    public McpTestServer Main { get; private set; } = null!;

    /// <summary>The one the tests stop and start again.</summary>
    public McpTestServer Bouncing { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        Main = await McpTestServer.StartNewAsync();
        Bouncing = await McpTestServer.StartNewAsync();
        await base.InitializeAsync();
    }

    protected override void AddSettings(IDictionary<string, string> settings)
    {
        settings["Conclave:Egress:AllowList:5"] = $"127.0.0.1:{Main.Port}";
        settings["Conclave:Egress:AllowList:6"] = $"127.0.0.1:{Bouncing.Port}";
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Main.DisposeAsync();
        await Bouncing.DisposeAsync();
    }
}
