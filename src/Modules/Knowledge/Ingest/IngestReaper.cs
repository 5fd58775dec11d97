using Conclave.Knowledge.Storage;
using Conclave.Knowledge.Telemetry;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Wolverine;
using Wolverine.Runtime;

namespace Conclave.Knowledge.Ingest;

/// <summary>
/// Finds ingests whose worker stopped renewing its lease (a node that shut down or died mid-document)
/// and queues them again, durably; the next worker resumes from the chunks already embedded. Runs at
/// start-up, then every <c>ReaperInterval</c>.
/// </summary>
internal sealed class IngestReaper(
    KnowledgeDatabase database,
    IWolverineRuntime wolverine,
    IOptions<KnowledgeOptions> options,
    ILogger<IngestReaper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var ingest = options.Value.Ingest;
        using var timer = new PeriodicTimer(ingest.ReaperInterval);
        do
        {
            try
            {
                await RequeueAbandonedAsync(ingest.LeaseTimeout, stoppingToken);
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                logger.LogWarning(e, "Looking for abandoned ingests failed; trying again in {Interval}", ingest.ReaperInterval);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    internal async Task<int> RequeueAbandonedAsync(TimeSpan leaseTimeout, CancellationToken cancellationToken)
    {
        var abandoned = new List<IngestDocument>();
        await using (var connection = await database.OpenAsync(cancellationToken))
        {
            // The lease is freed and stamped now, so one abandoned ingest is queued once per timeout, not every sweep.
            await using var command = new NpgsqlCommand(
                """
                UPDATE knowledge.documents SET lease_node = NULL, heartbeat_at = now()
                WHERE state IN ('Extracting', 'Embedding') AND heartbeat_at < now() - @timeout
                RETURNING id, version
                """,
                connection);
            command.Parameters.AddWithValue("timeout", leaseTimeout);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                abandoned.Add(new IngestDocument(reader.GetGuid(0), reader.GetInt32(1)));
            }
        }

        var bus = new MessageBus(wolverine);
        foreach (var ingest in abandoned)
        {
            Log.Requeued(logger, ingest.DocumentId, ingest.Version);
            await bus.SendAsync(ingest);
        }

        return abandoned.Count;
    }
}
