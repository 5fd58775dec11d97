using System.ComponentModel.DataAnnotations;

namespace Conclave.McpTools;

/// <summary>Limits of MCP connections (<c>Conclave:Mcp</c>).</summary>
public sealed class McpToolsOptions
{
    public const string Section = "Conclave:Mcp";

    /// <summary>A call's limit when its server sets none.</summary>
    public TimeSpan DefaultCallTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The longest limit a server may be given.</summary>
    public TimeSpan MaxCallTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Connecting and listing tools may take this long.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How often a connected server is pinged (and its tool list read again).</summary>
    public TimeSpan HealthInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The first wait before reconnecting a failed server in the background; doubles up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan Backoff { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromMinutes(2);

    [Range(1, 1000)]
    public int MaxServersPerUser { get; set; } = 20;

    /// <summary>Tools beyond this many from one server are not offered.</summary>
    [Range(1, 1000)]
    public int MaxToolsPerServer { get; set; } = 128;

    /// <summary>A result's text is cut here (the agent is told).</summary>
    [Range(1024, 1_048_576)]
    public int MaxResultChars { get; set; } = 32_768;
}
