using System.Collections.Concurrent;
using Conclave.Egress;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Conclave.McpTools.Connections;

/// <summary>
/// The node's connections, one per server, and the loop that keeps them up: connected servers are pinged
/// every <see cref="McpToolsOptions.HealthInterval"/>, failed ones reconnected with doubling backoff.
/// Every connection goes through the egress policy (admins allow private addresses in its allow-list).
/// </summary>
internal sealed class McpConnections(EgressPolicy egress, IOptions<McpToolsOptions> options, TimeProvider clock, ILoggerFactory loggers)
    : BackgroundService
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(500);

    private readonly ConcurrentDictionary<Guid, McpConnection> _connections = new();
    private readonly ILogger _logger = loggers.CreateLogger<McpConnections>();

    // Streams stay open for server messages: no overall timeout, each call has its own.
    private readonly HttpClient _http = new(egress.CreateHandler()) { Timeout = Timeout.InfiniteTimeSpan };

    public McpConnection For(McpServerSettings settings) =>
        _connections.GetOrAdd(settings.Id, _ => new McpConnection(settings, _http, options.Value, clock, loggers));

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
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            foreach (var connection in _connections.Values)
            {
                try
                {
                    await connection.CheckAsync(stoppingToken);
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    _logger.LogError(e, "Checking MCP server {Server} failed", connection.Settings.Name);
                }
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        foreach (var connection in _connections.Values)
        {
            await connection.DisposeAsync();
        }

        _http.Dispose();
    }
}
