using System.Threading.Channels;
using Conclave.Sessions.Contracts;
using Conclave.Sessions.Log;
using Marten;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Conclave.Sessions.Live;

/// <summary>
/// Hears the other nodes' commits (LISTEN on one dedicated connection, ADR 0015) and relays them to
/// this node's live subscribers and session lists: it reads the announced events from the store once
/// per notice and publishes them to the <see cref="LiveHub"/>, where subscribers take them as they
/// take this node's own (skipping what they sent, filling any gap from the store). Nobody here
/// watching the session: nothing is read. The connection is reopened with backoff when it fails;
/// notices sent while it was down are lost, so after every (re)connect each watched session gets its
/// newest event, from which its subscribers fill the gap.
/// </summary>
internal sealed class CommitListener(
    IDocumentStore store,
    SessionLog log,
    LiveHub hub,
    SessionChanges changes,
    ThisNode node,
    IOptions<NodeOptions> options,
    TimeProvider clock,
    ILogger<CommitListener> logger) : BackgroundService, IHealthCheck
{
    /// <summary>Notices waiting to be relayed; past this the oldest are dropped (their subscribers fill from the store at the next).</summary>
    private const int InboxCapacity = 10_000;

    /// <summary>Sessions relayed at once from one batch of notices.</summary>
    private const int RelayParallelism = 4;

    private readonly Channel<string> _inbox = Channel.CreateBounded<string>(new BoundedChannelOptions(InboxCapacity)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.DropOldest,
    });

    private volatile bool _listening;
    private volatile bool _everListened;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var relay = RelayAsync(stoppingToken);
        try
        {
            await ListenAsync(stoppingToken);
        }
        finally
        {
            _inbox.Writer.TryComplete();
            await relay;
        }
    }

    private async Task ListenAsync(CancellationToken stoppingToken)
    {
        var backoff = options.Value.ListenerBackoff;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = store.Storage.Database.CreateConnection();
                await connection.OpenAsync(stoppingToken);
                connection.Notification += (_, e) => _inbox.Writer.TryWrite(e.Payload);
                await using (var listen = new NpgsqlCommand($"LISTEN \"{node.Channel}\"", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }

                _listening = true;
                _everListened = true;
                backoff = options.Value.ListenerBackoff;
                logger.LogInformation("Node {Node} listens for other nodes' commits on channel {Channel}", node.Origin, node.Channel);
                _ = RecheckWatchedAsync(stoppingToken);
                while (true)
                {
                    if (!await connection.WaitAsync(options.Value.ListenerKeepAlive, stoppingToken))
                    {
                        // Quiet for a while: make sure the connection is still there (a dead peer sends nothing).
                        await using var ping = new NpgsqlCommand("select 1", connection);
                        await ping.ExecuteScalarAsync(stoppingToken);
                    }
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                _listening = false;
                logger.LogWarning(e, "Listening for other nodes' commits failed; trying again in {Backoff}", backoff);
                try
                {
                    await Task.Delay(backoff, clock, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, options.Value.ListenerMaxBackoff.Ticks));
            }
        }
    }

    /// <summary>Takes the notices waiting, merges them per session, and relays each session once.</summary>
    private async Task RelayAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (await _inbox.Reader.WaitToReadAsync(CancellationToken.None))
            {
                var ranges = new Dictionary<Guid, (long From, long To)>();
                while (_inbox.Reader.TryRead(out var payload))
                {
                    if (CommitNotice.Parse(payload) is not { } notice || notice.Origin == node.Origin)
                    {
                        continue; // this node's own commit: its hub had it at once
                    }

                    ranges[notice.SessionId] = ranges.TryGetValue(notice.SessionId, out var known)
                        ? (Math.Min(known.From, notice.FromVersion), Math.Max(known.To, notice.ToVersion))
                        : (notice.FromVersion, notice.ToVersion);
                }

                await Parallel.ForEachAsync(
                    ranges,
                    new ParallelOptions { MaxDegreeOfParallelism = RelayParallelism, CancellationToken = stoppingToken },
                    async (range, ct) => await RelayOneAsync(range.Key, range.Value.From, range.Value.To, ct));
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task RelayOneAsync(Guid sessionId, long from, long to, CancellationToken cancellationToken)
    {
        if (hub.SubscriberCount(sessionId) == 0 && !changes.HasListeners)
        {
            return;
        }

        try
        {
            var page = await log.ReadPageAsync(sessionId, from - 1, (int)Math.Min(to - from + 1, SessionLog.PageEvents), cancellationToken);
            Publish(sessionId, page.Events);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            // Its subscribers fill the gap at the session's next event (or reconnect).
            logger.LogWarning(e, "Relaying another node's commit of session {SessionId} failed", sessionId);
        }
    }

    /// <summary>After a (re)connect: whatever was committed meanwhile reaches the sessions watched here.</summary>
    private async Task RecheckWatchedAsync(CancellationToken cancellationToken)
    {
        foreach (var sessionId in hub.WatchedSessions())
        {
            try
            {
                if (await log.ReadLastAsync(sessionId, cancellationToken) is { } last)
                {
                    Publish(sessionId, [last]);
                }
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                logger.LogWarning(e, "Re-checking session {SessionId} after reconnecting failed", sessionId);
            }
        }
    }

    private void Publish(Guid sessionId, IReadOnlyList<SessionEvent> events)
    {
        if (events.Count == 0)
        {
            return;
        }

        hub.PublishEvents(sessionId, events);
        changes.Publish(sessionId, events);
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(_listening
            ? HealthCheckResult.Healthy("Hears the other nodes' commits.")
            : _everListened
                ? HealthCheckResult.Degraded("Lost the connection that hears the other nodes' commits; reconnecting (live pages may lag).")
                : HealthCheckResult.Unhealthy("Not yet listening for the other nodes' commits."));
}
