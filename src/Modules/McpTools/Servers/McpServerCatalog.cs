using Marten;

namespace Conclave.McpTools.Servers;

/// <summary>
/// Every registered server, in memory, so a tool list is answered without a query (the tool registry asks
/// synchronously, at every team save and run). Read again after each change here and every few seconds by
/// <see cref="Connections.McpConnections"/>'s loop, which is how a server registered on another node arrives.
/// </summary>
internal sealed class McpServerCatalog(IDocumentStore store)
{
    private volatile IReadOnlyList<StoredMcpServer> _servers = [];

    public IReadOnlyList<StoredMcpServer> Servers => _servers;

    public IEnumerable<StoredMcpServer> VisibleTo(string ownerId) => _servers.Where(s => s.VisibleTo(ownerId));

    public async Task RefreshAsync(CancellationToken ct)
    {
        await using var session = store.QuerySession();
        _servers = await session.Query<StoredMcpServer>().OrderBy(s => s.Name).ToListAsync(ct);
    }
}
