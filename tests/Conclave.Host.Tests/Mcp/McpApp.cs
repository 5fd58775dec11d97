using Conclave.Testing.Host;

namespace Conclave.Host.Tests.Mcp;

/// <summary>
/// The Host on a real loopback port (the MCP client speaks plain HTTP to it, as an IDE would), with the public
/// client an admin registers for MCP clients (ADR 0020).
/// </summary>
public sealed class McpApp() : ConclaveApp(kestrel: true)
{
    public const string McpClientId = "mcp-tests";

    /// <summary>Where the authorization server sends the code: nothing listens there, the test reads the redirect.</summary>
    public static readonly Uri McpRedirectUri = new("http://127.0.0.1:9/mcp-callback");

    public Uri McpEndpoint => new(BaseAddress, "mcp");

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await RegisterClientAsync(McpClientId, McpRedirectUri);
    }
}
