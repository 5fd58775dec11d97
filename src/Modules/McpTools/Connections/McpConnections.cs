using System.Collections.Concurrent;
using Conclave.Egress;
using Conclave.Identity.Contracts;
using Conclave.McpTools.Servers;
using Conclave.Sandbox.Contracts;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Conclave.McpTools.Connections;

/// <summary>
/// The node's connections, one per server, and the loop that keeps them up: connected servers are pinged
/// every <see cref="McpToolsOptions.HealthInterval"/>, failed ones reconnected with doubling backoff.
/// Every connection goes through the egress policy (admins allow private addresses in its allow-list).
/// </summary>
internal sealed class McpConnections(
    McpServerCatalog catalog,
    IKeyRing keyRing,
    EgressPolicy egress,
    ISandboxProcesses processes,
    IOptions<McpToolsOptions> options,
    TimeProvider clock,
    ILoggerFactory loggers)
    : BackgroundService
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(500);

    /// <summary>How often the server list is read again (servers registered or removed on another node).</summary>
    private static readonly TimeSpan CatalogRefresh = TimeSpan.FromSeconds(5);

    private readonly IDataProtector _headers = keyRing.ProtectorFor(McpServerStore.Purpose);

    private readonly ConcurrentDictionary<Guid, McpConnection> _connections = new();
    private readonly ILogger _logger = loggers.CreateLogger<McpConnections>();

    // Streams stay open for server messages: no overall timeout, each call has its own.
    private readonly HttpClient _http = new(egress.CreateHandler()) { Timeout = Timeout.InfiniteTimeSpan };

    public McpConnection For(McpServerSettings settings) =>
        _connections.GetOrAdd(settings.Id, _ => new McpConnection(settings, _http, processes, options.Value, clock, loggers));

    /// <summary>The connection of a registered server (made, and connecting in the background, when it has none yet).</summary>
    public McpConnection For(StoredMcpServer server) => For(Settings(server));

    /// <summary>The connection of a server, or null while the loop has not made one yet.</summary>
    public McpConnection? Find(StoredMcpServer server) => _connections.GetValueOrDefault(server.Id);

    /// <summary>What a connection needs; the header values are decrypted only when it connects.</summary>
    private McpServerSettings Settings(StoredMcpServer server) => new(
        server.Id, server.Name, server.SessionId is null ? new Uri(server.Url) : null, server.Transport, server.ReadOnly, TimeSpan.FromSeconds(server.TimeoutSeconds),
        () => server.ProtectedHeaders.ToDictionary(h => h.Key, h => _headers.Unprotect(h.Value)),
        server.SessionId,
        server.Command);

    public async Task RemoveAsync(Guid serverId)
    {
        if (_connections.TryRemove(serverId, out var connection))
        {
            await connection.DisposeAsync();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Tick, clock);
        var catalogReadAt = DateTimeOffset.MinValue;
        do
        {
            if (clock.GetUtcNow() - catalogReadAt >= CatalogRefresh)
            {
                await SyncWithCatalogAsync(stoppingToken);
                catalogReadAt = clock.GetUtcNow();
            }

            // One slow server does not hold the others' checks up.
            await Task.WhenAll(_connections.Values.Select(c => CheckAsync(c, stoppingToken)));
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>Reads the server list, connects servers new to this node and closes those removed elsewhere.</summary>
    private async Task SyncWithCatalogAsync(CancellationToken ct)
    {
        try
        {
            await catalog.RefreshAsync(ct);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            _logger.LogWarning("Reading the MCP servers failed ({Error}); trying again shortly", e.Message);
            return;
        }

        var registered = catalog.Servers.Select(s => s.Id).ToHashSet();
        foreach (var gone in _connections.Keys.Where(id => !registered.Contains(id)).ToList())
        {
            await RemoveAsync(gone);
        }

        // A local server starts with its session's first run, not with the Host: it would start a sandbox for every session.
        foreach (var server in catalog.Servers.Where(s => s.SessionId is null && !_connections.ContainsKey(s.Id)))
        {
            // Connected from the start, so an agent's tools are listed before anyone needs them.
            _ = For(server).EnsureConnectedAsync(ct);
        }
    }

    private async Task CheckAsync(McpConnection connection, CancellationToken ct)
    {
        try
        {
            await connection.CheckAsync(ct);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            _logger.LogError(e, "Checking MCP server {Server} failed", connection.Settings.Name);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        foreach (var connection in _connections.Values)
        {
            await connection.DisposeAsync();
        }

        // The shared client is left to the process: the SDK ends a session with a DELETE it does not await, and a
        // disposed client would turn that courtesy into an error.
    }
}
