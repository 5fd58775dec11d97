using Conclave.McpTools.Contracts;

namespace Conclave.McpTools.Servers;

/// <summary>A registered server as Marten keeps it. Header values are ciphertext (<see cref="McpServerStore"/>).</summary>
internal sealed class StoredMcpServer
{
    public Guid Id { get; set; }

    /// <summary>Who registered it; null for an admin's server offered to everyone.</summary>
    public string? OwnerId { get; set; }

    public string Name { get; set; } = "";

    public string Url { get; set; } = "";

    public McpTransport Transport { get; set; }

    public bool ReadOnly { get; set; }

    public int TimeoutSeconds { get; set; }

    /// <summary>Header name → protected value.</summary>
    public Dictionary<string, string> ProtectedHeaders { get; set; } = [];

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>For a local (stdio) server: the session whose sandbox runs it; null for a remote server.</summary>
    public Guid? SessionId { get; set; }

    /// <summary>For a local (stdio) server: the program and its arguments.</summary>
    public List<string>? Command { get; set; }

    public bool VisibleTo(string ownerId) => OwnerId is null || OwnerId == ownerId;
}
