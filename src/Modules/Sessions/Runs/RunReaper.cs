using Conclave.Sessions.Contracts;
using Conclave.Sessions.Log;
using Conclave.Sessions.Telemetry;
using Marten;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Conclave.Sessions.Runs;

/// <summary>
/// Finds runs whose node stopped renewing their lease and hands them on: queued again (the
/// orchestrator resumes from the last persisted step) up to <see cref="RunLeaseOptions.MaxAttempts"/>
/// times, then failed as orphaned. Every node runs one; leases are optimistic, so only one wins each.
/// </summary>
internal sealed class RunReaper(
    IDocumentStore store,
    SessionLog log,
    SessionStream stream,
    IOptions<RunLeaseOptions> options,
    TimeProvider clock,
    SessionMetrics metrics,
    IHostApplicationLifetime lifetime,
    ILogger<RunReaper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.ReaperInterval, clock);
        do
        {
            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(e, "The run reaper's sweep failed; trying again in {Interval}", options.Value.ReaperInterval);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>One pass over the stale leases; returns how many runs it handed on or failed.</summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        if (lifetime.ApplicationStopping.IsCancellationRequested)
        {
            // A draining node queues nothing to itself: the runs it leaves are for the nodes that stay.
            return 0;
        }

        var cutoff = clock.GetUtcNow() - options.Value.LeaseTimeout;
        await CountRunsAsync(cancellationToken);
        var stale = await StaleLeasesAsync(cutoff, cancellationToken);
        logger.LogDebug("Reaper sweep: {Count} stale lease(s) before {Cutoff}", stale.Count, cutoff);
        var handled = 0;
        foreach (var runId in stale)
        {
            if (await ReapAsync(runId, cutoff, cancellationToken))
            {
                handled++;
            }
        }

        return handled;
    }

    private async Task<bool> ReapAsync(Guid runId, DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        // Loaded through the session, so the save below is checked against the version read here.
        await using var session = store.LightweightSession();
        var lease = await session.LoadAsync<RunLease>(runId, cancellationToken);
        if (lease is null || lease.HeartbeatAt >= cutoff)
        {
            return false; // renewed or handed on meanwhile
        }

        if (lifetime.ApplicationStopping.IsCancellationRequested)
        {
            // Checked after the load: a lease this node's drain left stale was written after stopping began,
            // so a sweep already under way cannot queue that run to this node's own, closing queue.
            return false;
        }

        var history = await log.ReadRunLifecycleAsync(lease.SessionId, lease.Id, cancellationToken);
        var status = RunHistory.StatusOf(history, lease.Id);
        if (!status.IsGoing())
        {
            // Ended or paused after its node wrote the last step: nothing runs, nothing to hand on.
            session.Delete(lease);
            await RunLeases.TrySaveAsync(session, cancellationToken);
            return false;
        }

        var previousNode = lease.NodeId;
        var handedOn = lease.HandedOn;
        if (!handedOn)
        {
            lease.Attempts++;
        }

        lease.HandedOn = false;
        lease.NodeId = null;
        lease.HeartbeatAt = clock.GetUtcNow(); // the next node has a full lease timeout to pick it up
        var giveUp = lease.Attempts > options.Value.MaxAttempts;
        if (giveUp)
        {
            session.Delete(lease);
        }
        else
        {
            session.Update(lease);
        }

        if (!await RunLeases.TrySaveAsync(session, cancellationToken))
        {
            return false; // another node's reaper got there first
        }

        var now = clock.GetUtcNow();
        if (giveUp)
        {
            var reason = $"The run was orphaned: the node executing it stopped responding {options.Value.MaxAttempts + 1} times. Post the message again to retry.";
            logger.LogWarning("Run {RunId} of session {SessionId} failed as orphaned after {Attempts} attempts", lease.Id, lease.SessionId, lease.Attempts);
            await stream.AppendAsync(lease.SessionId, Decision.Append(new RunFailed(lease.Id, reason, true, now)), cancellationToken, whileRunActive: lease.Id);
            metrics.RunOrphaned();
            return true;
        }

        var ownerId = await OwnerOfAsync(lease.SessionId, history, cancellationToken);
        if (handedOn)
        {
            logger.LogInformation("Run {RunId} of session {SessionId} was handed on by a draining node; queued again", lease.Id, lease.SessionId);
        }
        else
        {
            logger.LogWarning(
                "Run {RunId} of session {SessionId} lost its node {NodeId}; queued again (attempt {Attempt})",
                lease.Id, lease.SessionId, previousNode ?? "(none)", lease.Attempts);
        }

        var why = handedOn
            ? "The node executing the run shut down; the run continues from its last step on another node."
            : "The node executing the run stopped responding; the run continues from its last step.";
        var requeue = Decision
            .Append(new RunRequeued(lease.Id, lease.Attempts, why, now))
            .Send(new RunRequested(lease.SessionId, lease.Id, ownerId));
        await stream.AppendAsync(lease.SessionId, requeue, cancellationToken, whileRunActive: lease.Id);
        metrics.LeaseRequeued();
        return true;
    }

    /// <summary>Queued and running runs of the installation, for the gauges (two counts on an indexed read model).</summary>
    private async Task CountRunsAsync(CancellationToken cancellationToken)
    {
        await using var session = store.QuerySession();
        var queued = await session.Query<RunSummary>().CountAsync(r => r.Active && r.Status == RunStatus.Queued, cancellationToken);
        var running = await session.Query<RunSummary>().CountAsync(r => r.Active && r.Status != RunStatus.Queued, cancellationToken);
        metrics.RunsCounted(queued, running);
    }

    private static readonly string StaleSql =
        $"select id from {SessionsModule.Schema}.mt_doc_runlease where (data ->> 'HeartbeatAt')::timestamptz < $1 " +
        "order by (data ->> 'HeartbeatAt')::timestamptz limit 100";

    /// <summary>Plain SQL: the runs whose lease was last renewed before <paramref name="cutoff"/>, oldest first.</summary>
    private async Task<IReadOnlyList<Guid>> StaleLeasesAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(cancellationToken);
        await using var command = new Npgsql.NpgsqlCommand(StaleSql, connection) { Parameters = { new() { Value = cutoff } } };
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var runs = new List<Guid>();
        while (await reader.ReadAsync(cancellationToken))
        {
            runs.Add(reader.GetGuid(0));
        }

        return runs;
    }

    /// <summary>The run's owner from its RunQueued; runs queued before RunQueued named one belong to the session's owner.</summary>
    private async Task<string> OwnerOfAsync(Guid sessionId, IReadOnlyList<SessionEvent> lifecycle, CancellationToken cancellationToken) =>
        lifecycle.Select(e => e.Data).OfType<RunQueued>().FirstOrDefault()?.OwnerId
        ?? (await log.ReadPageAsync(sessionId, 0, 1, cancellationToken)).Events.Select(e => e.Data).OfType<SessionStarted>().First().OwnerId;
}
