using Conclave.Knowledge.Chunking;
using Conclave.Knowledge.Collections;
using Conclave.Knowledge.Contracts;
using Conclave.Knowledge.Documents;
using Conclave.Knowledge.Embedding;
using Conclave.Knowledge.Extraction;
using Conclave.Knowledge.Storage;
using Conclave.Knowledge.Telemetry;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using Pgvector;

namespace Conclave.Knowledge.Ingest;

/// <summary>
/// Indexes one version of a document: claim it (a lease with heartbeats), read the stored copy and
/// check its hash, extract, chunk, embed the chunks not embedded yet into <c>pending_chunks</c> (so a
/// restart resumes where it stopped), then move the whole version into <c>chunks</c> in one
/// transaction that also removes the previous version's chunks. Search never sees half a document.
/// Bad content fails the document with its reason; the worker goes on with the next one.
/// </summary>
public sealed class DocumentIndexer
{
    /// <summary>Claims beyond this fail the document: an ingest that keeps dying must not loop forever.</summary>
    internal const int MaxAttempts = 3;

    private readonly KnowledgeDatabase _database;
    private readonly KnowledgeEmbedder _embedder;
    private readonly ITokenCounter _tokens;
    private readonly DocumentNotifier _notifier;
    private readonly CollectionStore _collections;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly KnowledgeOptions _options;
    private readonly KnowledgeMetrics _metrics;
    private readonly ILogger<DocumentIndexer> _logger;

    internal DocumentIndexer(
        KnowledgeDatabase database,
        KnowledgeEmbedder embedder,
        ITokenCounter tokens,
        DocumentNotifier notifier,
        CollectionStore collections,
        IHostApplicationLifetime lifetime,
        IOptions<KnowledgeOptions> options,
        KnowledgeMetrics metrics,
        ILogger<DocumentIndexer> logger)
    {
        _metrics = metrics;
        _database = database;
        _embedder = embedder;
        _tokens = tokens;
        _notifier = notifier;
        _collections = collections;
        _lifetime = lifetime;
        _options = options.Value;
        _logger = logger;
    }

    /// <summary>This process's name in leases.</summary>
    internal string NodeId { get; } = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";

    internal async Task RemoveSessionAsync(string ownerId, Guid sessionId, CancellationToken cancellationToken)
    {
        await _collections.RemoveSessionAsync(ownerId, sessionId, cancellationToken);
        Log.SessionRemoved(_logger, sessionId);
    }

    internal async Task IndexAsync(IngestDocument message, CancellationToken messageCancelled)
    {
        // Wolverine's token does not fire when the Host stops; the application's does.
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(messageCancelled, _lifetime.ApplicationStopping);
        using var leaseLost = new CancellationTokenSource();
        using var work = CancellationTokenSource.CreateLinkedTokenSource(stopping.Token, leaseLost.Token);

        var claim = await ClaimAsync(message, stopping.Token);
        if (claim is null)
        {
            Log.NothingToIngest(_logger, message.DocumentId, message.Version);
            return;
        }

        var heartbeat = HeartbeatAsync(message, leaseLost, work.Token);
        try
        {
            if (claim.Attempts > MaxAttempts)
            {
                await FailAsync(message, $"Indexing was interrupted {MaxAttempts} times; giving up. Upload the document again to retry.");
                return;
            }

            await IndexClaimedAsync(message, claim, work.Token);
        }
        catch (ExtractionFailedException e)
        {
            await FailAsync(message, e.Message);
        }
        catch (Exception e) when (e is NoLongerHeldException || (leaseLost.IsCancellationRequested && !stopping.IsCancellationRequested))
        {
            Log.LeaseLost(_logger, message.DocumentId, message.Version);
        }
        catch (Exception) when (stopping.IsCancellationRequested)
        {
            // Embedded chunks are kept; the lease is left stale so the next node (or this one after a restart) resumes at once.
            Log.HandedOn(_logger, message.DocumentId, message.Version);
            await ReleaseAsync(message, CancellationToken.None);
        }
        catch (Exception e) when (e is PostgresException { SqlState: PostgresErrorCodes.ForeignKeyViolation })
        {
            Log.DocumentGone(_logger, message.DocumentId);
        }
        catch (Exception e)
        {
            // A bug or an outage: leave the lease stale; the reaper queues the document again (bounded by MaxAttempts).
            Log.IngestCrashed(_logger, e, message.DocumentId, message.Version);
            await ReleaseAsync(message, CancellationToken.None);
        }
        finally
        {
            await work.CancelAsync();
            await heartbeat;
        }
    }

    private sealed record Claim(string OwnerId, Guid CollectionId, string Name, byte[] Sha, int Attempts);

    private async Task IndexClaimedAsync(IngestDocument message, Claim claim, CancellationToken cancellationToken)
    {
        await PublishStateAsync(message.DocumentId, cancellationToken);

        // Identical content this owner already has in search is indexed once: its chunks are copied.
        if (await CopyIndexedTwinAsync(message, claim, cancellationToken))
        {
            await GoLiveAsync(message, cancellationToken);
            return;
        }

        var content = await StoredCopyAsync(message, claim, cancellationToken);
        var limits = _options.Limits;
        var chunks = await Task.Run(
            () =>
            {
                var document = DocumentReader.Read(claim.Name, content, ExtractionLimits.From(limits), cancellationToken);
                var chunker = new Chunker(_tokens, _options.Chunking.ChunkTokens, _options.Chunking.OverlapTokens, limits.MaxChunksPerDocument);
                return (Document: document, Chunks: chunker.Split(document, cancellationToken));
            },
            cancellationToken);

        var done = await StartEmbeddingAsync(message, chunks.Document, chunks.Chunks.Count, cancellationToken);
        await PublishStateAsync(message.DocumentId, cancellationToken);
        var batches = chunks.Chunks.Where(c => !done.Contains(c.Ordinal)).Chunk(_embedder.BatchSize).ToList();
        // The next batch is embedded while this one is written and announced: the cores keep embedding through
        // the database's round trips instead of waiting for them.
        var next = batches.Count > 0 ? EmbedAsync(batches[0], cancellationToken) : null;
        try
        {
            for (var i = 0; i < batches.Count; i++)
            {
                var vectors = await next!;
                next = i + 1 < batches.Count ? EmbedAsync(batches[i + 1], cancellationToken) : null;
                await SavePendingAsync(message, batches[i], vectors, cancellationToken);
                await PublishStateAsync(message.DocumentId, cancellationToken);
            }
        }
        finally
        {
            // A write that failed leaves the batch being embedded behind: its outcome is observed, not awaited.
            next?.ContinueWith(t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        }

        await GoLiveAsync(message, cancellationToken);
    }

    private Task<float[][]> EmbedAsync(Chunk[] batch, CancellationToken cancellationToken) =>
        _embedder.EmbedPassagesAsync(batch.Select(c => c.EmbeddingText).ToList(), cancellationToken);

    private async Task<Claim?> ClaimAsync(IngestDocument message, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            """
            UPDATE knowledge.documents
            SET lease_node = @node, heartbeat_at = now(), attempts = attempts + 1, updated_at = now(),
                state = CASE WHEN state = 'Queued' THEN 'Extracting' ELSE state END
            WHERE id = @id AND version = @version AND state IN ('Queued', 'Extracting', 'Embedding')
              AND (lease_node IS NULL OR lease_node = @node OR heartbeat_at < now() - @timeout)
            RETURNING owner_id, collection_id, name, sha256, attempts
            """,
            connection);
        command.Parameters.AddWithValue("id", message.DocumentId);
        command.Parameters.AddWithValue("version", message.Version);
        command.Parameters.AddWithValue("node", NodeId);
        command.Parameters.AddWithValue("timeout", _options.Ingest.LeaseTimeout);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new Claim(reader.GetString(0), reader.GetGuid(1), reader.GetString(2), reader.GetFieldValue<byte[]>(3), reader.GetInt32(4))
            : null;
    }

    private async Task HeartbeatAsync(IngestDocument message, CancellationTokenSource leaseLost, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_options.Ingest.HeartbeatInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                await using var connection = await _database.OpenAsync(cancellationToken);
                await using var command = new NpgsqlCommand(
                    "UPDATE knowledge.documents SET heartbeat_at = now() WHERE id = @id AND version = @version AND lease_node = @node",
                    connection);
                command.Parameters.AddWithValue("id", message.DocumentId);
                command.Parameters.AddWithValue("version", message.Version);
                command.Parameters.AddWithValue("node", NodeId);
                if (await command.ExecuteNonQueryAsync(cancellationToken) == 0)
                {
                    // Replaced by a new version, deleted, or taken over: stop working on it.
                    await leaseLost.CancelAsync();
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is NpgsqlException)
        {
            Log.HeartbeatFailed(_logger, e, message.DocumentId);
        }
    }

    /// <summary>The immutable copy stored at upload, checked against the hash taken while it was received.</summary>
    private async Task<byte[]> StoredCopyAsync(IngestDocument message, Claim claim, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            "SELECT content, sha256 FROM knowledge.sources WHERE document_id = @id AND version = @version", connection);
        command.Parameters.AddWithValue("id", message.DocumentId);
        command.Parameters.AddWithValue("version", message.Version);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            throw new ExtractionFailedException("The stored copy of this version is missing. Upload the document again.");
        }

        var content = reader.GetFieldValue<byte[]>(0);
        var sha = reader.GetFieldValue<byte[]>(1);
        if (!DocumentRows.Sha256(content).AsSpan().SequenceEqual(sha) || !sha.AsSpan().SequenceEqual(claim.Sha))
        {
            throw new ExtractionFailedException(
                "The stored copy changed after it was uploaded (its SHA-256 no longer matches the upload's), so it was not indexed. Upload the document again.");
        }

        return content;
    }

    private async Task<bool> CopyIndexedTwinAsync(IngestDocument message, Claim claim, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        await using var find = new NpgsqlCommand(
            """
            SELECT id, kind, pages, chunks_total FROM knowledge.documents
            WHERE owner_id = @owner AND sha256 = @sha AND state = 'Ready' AND live_version = version AND id <> @id
            LIMIT 1
            """,
            connection,
            tx);
        find.Parameters.AddWithValue("owner", claim.OwnerId);
        find.Parameters.AddWithValue("sha", claim.Sha);
        find.Parameters.AddWithValue("id", message.DocumentId);
        Guid twin;
        string? kind;
        int? pages;
        int total;
        await using (var reader = await find.ExecuteReaderAsync(cancellationToken))
        {
            if (!await reader.ReadAsync(cancellationToken))
            {
                return false;
            }

            (twin, kind, pages, total) = (reader.GetGuid(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetInt32(2), reader.GetInt32(3));
        }

        await using var copy = new NpgsqlCommand(
            """
            INSERT INTO knowledge.pending_chunks (document_id, version, ordinal, page, heading, body, overlap, embedding)
            SELECT @id, @version, ordinal, page, heading, body, overlap, embedding FROM knowledge.chunks WHERE document_id = @twin
            ON CONFLICT DO NOTHING;
            UPDATE knowledge.documents SET kind = @kind, pages = @pages, chunks_total = @total, chunks_embedded = @total, state = 'Embedding', updated_at = now()
            WHERE id = @id AND version = @version AND lease_node = @node;
            """,
            connection,
            tx);
        copy.Parameters.AddWithValue("id", message.DocumentId);
        copy.Parameters.AddWithValue("version", message.Version);
        copy.Parameters.AddWithValue("twin", twin);
        copy.Parameters.Add(new NpgsqlParameter("kind", NpgsqlDbType.Text) { Value = (object?)kind ?? DBNull.Value });
        copy.Parameters.Add(new NpgsqlParameter("pages", NpgsqlDbType.Integer) { Value = (object?)pages ?? DBNull.Value });
        copy.Parameters.AddWithValue("total", total);
        copy.Parameters.AddWithValue("node", NodeId);
        await copy.ExecuteNonQueryAsync(cancellationToken);
        await tx.CommitAsync(cancellationToken);
        Log.CopiedTwin(_logger, message.DocumentId, twin, total);
        _metrics.DocumentIndexed("copied");
        return true;
    }

    /// <summary>Records what the document is and how many chunks it has; returns the ordinals already embedded (after a restart).</summary>
    private async Task<HashSet<int>> StartEmbeddingAsync(IngestDocument message, ExtractedDocument document, int total, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            """
            UPDATE knowledge.documents SET kind = @kind, pages = @pages, chunks_total = @total, state = 'Embedding', updated_at = now(),
                chunks_embedded = (SELECT count(*) FROM knowledge.pending_chunks WHERE document_id = @id AND version = @version)
            WHERE id = @id AND version = @version AND lease_node = @node;
            SELECT ordinal FROM knowledge.pending_chunks WHERE document_id = @id AND version = @version;
            """,
            connection);
        command.Parameters.AddWithValue("id", message.DocumentId);
        command.Parameters.AddWithValue("version", message.Version);
        command.Parameters.AddWithValue("kind", document.Kind);
        command.Parameters.Add(new NpgsqlParameter("pages", NpgsqlDbType.Integer) { Value = (object?)document.Pages ?? DBNull.Value });
        command.Parameters.AddWithValue("total", total);
        command.Parameters.AddWithValue("node", NodeId);
        var done = new HashSet<int>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            done.Add(reader.GetInt32(0));
        }

        return done;
    }

    private async Task SavePendingAsync(IngestDocument message, Chunk[] batch, float[][] vectors, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        var insert = new NpgsqlBatch(connection, tx);
        for (var i = 0; i < batch.Length; i++)
        {
            var chunk = batch[i];
            var row = new NpgsqlBatchCommand(
                """
                INSERT INTO knowledge.pending_chunks (document_id, version, ordinal, page, heading, body, overlap, embedding)
                VALUES (@id, @version, @ordinal, @page, @heading, @body, @overlap, @embedding) ON CONFLICT DO NOTHING
                """);
            row.Parameters.AddWithValue("id", message.DocumentId);
            row.Parameters.AddWithValue("version", message.Version);
            row.Parameters.AddWithValue("ordinal", chunk.Ordinal);
            row.Parameters.Add(new NpgsqlParameter("page", NpgsqlDbType.Integer) { Value = (object?)chunk.Page ?? DBNull.Value });
            row.Parameters.Add(new NpgsqlParameter("heading", NpgsqlDbType.Text) { Value = (object?)chunk.Heading ?? DBNull.Value });
            row.Parameters.AddWithValue("body", chunk.Body);
            row.Parameters.AddWithValue("overlap", chunk.Overlap);
            row.Parameters.AddWithValue("embedding", new Vector(vectors[i]));
            insert.BatchCommands.Add(row);
        }

        var progress = new NpgsqlBatchCommand(
            """
            UPDATE knowledge.documents SET heartbeat_at = now(), updated_at = now(),
                chunks_embedded = (SELECT count(*) FROM knowledge.pending_chunks WHERE document_id = @id AND version = @version)
            WHERE id = @id AND version = @version AND lease_node = @node
            """);
        progress.Parameters.AddWithValue("id", message.DocumentId);
        progress.Parameters.AddWithValue("version", message.Version);
        progress.Parameters.AddWithValue("node", NodeId);
        insert.BatchCommands.Add(progress);
        await using (insert)
        {
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        if (progress.RecordsAffected == 0)
        {
            throw new NoLongerHeldException();
        }

        await tx.CommitAsync(cancellationToken);
    }

    /// <summary>The version enters search whole, and the previous version's chunks leave, in one transaction.</summary>
    private async Task GoLiveAsync(IngestDocument message, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            """
            SELECT 1 FROM knowledge.documents WHERE id = @id AND version = @version AND lease_node = @node
                AND chunks_total = (SELECT count(*) FROM knowledge.pending_chunks WHERE document_id = @id AND version = @version)
            FOR UPDATE
            """,
            connection,
            tx);
        command.Parameters.AddWithValue("id", message.DocumentId);
        command.Parameters.AddWithValue("version", message.Version);
        command.Parameters.AddWithValue("node", NodeId);
        if (await command.ExecuteScalarAsync(cancellationToken) is null)
        {
            throw new NoLongerHeldException();
        }

        await using var live = new NpgsqlCommand(
            """
            DELETE FROM knowledge.chunks WHERE document_id = @id;
            INSERT INTO knowledge.chunks (document_id, owner_id, collection_id, ordinal, page, heading, body, overlap, embedding)
            SELECT p.document_id, d.owner_id, d.collection_id, p.ordinal, p.page, p.heading, p.body, p.overlap, p.embedding
            FROM knowledge.pending_chunks p JOIN knowledge.documents d ON d.id = p.document_id
            WHERE p.document_id = @id AND p.version = @version;
            DELETE FROM knowledge.pending_chunks WHERE document_id = @id;
            DELETE FROM knowledge.sources WHERE document_id = @id AND version < @version;
            UPDATE knowledge.documents SET state = 'Ready', live_version = version, chunks_embedded = chunks_total, failure = NULL,
                lease_node = NULL, heartbeat_at = NULL, updated_at = now()
            WHERE id = @id;
            """,
            connection,
            tx);
        live.Parameters.AddWithValue("id", message.DocumentId);
        live.Parameters.AddWithValue("version", message.Version);
        await live.ExecuteNonQueryAsync(cancellationToken);
        await tx.CommitAsync(cancellationToken);
        Log.DocumentReady(_logger, message.DocumentId, message.Version);
        _metrics.DocumentIndexed("ready");
        // Not the work's token: going live gave the lease up, and a heartbeat that finds it gone cancels
        // the work; the notice of what was committed must still go out.
        await PublishStateAsync(message.DocumentId, CancellationToken.None);
    }

    /// <summary>A failed version is not in search, and neither is the version before it (the document's state says why).</summary>
    private async Task FailAsync(IngestDocument message, string reason)
    {
        await using var connection = await _database.OpenAsync(CancellationToken.None);
        await using var tx = await connection.BeginTransactionAsync(CancellationToken.None);
        await using var command = new NpgsqlCommand(
            """
            UPDATE knowledge.documents SET state = 'Failed', failure = @reason, lease_node = NULL, heartbeat_at = NULL, live_version = NULL, updated_at = now()
            WHERE id = @id AND version = @version AND state <> 'Ready';
            DELETE FROM knowledge.chunks WHERE document_id = @id
                AND EXISTS (SELECT 1 FROM knowledge.documents WHERE id = @id AND version = @version AND state = 'Failed');
            DELETE FROM knowledge.pending_chunks WHERE document_id = @id AND version <= @version;
            """,
            connection,
            tx);
        command.Parameters.AddWithValue("id", message.DocumentId);
        command.Parameters.AddWithValue("version", message.Version);
        command.Parameters.AddWithValue("reason", reason);
        await command.ExecuteNonQueryAsync(CancellationToken.None);
        await tx.CommitAsync(CancellationToken.None);
        Log.DocumentFailed(_logger, message.DocumentId, message.Version, reason);
        _metrics.DocumentIndexed("failed");
        await PublishStateAsync(message.DocumentId, CancellationToken.None);
    }

    private async Task ReleaseAsync(IngestDocument message, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await _database.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand(
                "UPDATE knowledge.documents SET heartbeat_at = '-infinity' WHERE id = @id AND version = @version AND lease_node = @node",
                connection);
            command.Parameters.AddWithValue("id", message.DocumentId);
            command.Parameters.AddWithValue("version", message.Version);
            command.Parameters.AddWithValue("node", NodeId);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
        {
            // The lease then expires by itself after LeaseTimeout.
            Log.HeartbeatFailed(_logger, e, message.DocumentId);
        }
    }

    private async Task PublishStateAsync(Guid documentId, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        if (await DocumentRows.FindAsync(connection, documentId, null, cancellationToken) is { } found)
        {
            await _notifier.PublishAsync(DocumentRows.Changed(found.Document, found.SessionId), cancellationToken);
        }
    }

    /// <summary>The version was replaced, deleted or taken over by another node while this one worked on it.</summary>
    private sealed class NoLongerHeldException() : Exception("The document is no longer held by this node.");
}
