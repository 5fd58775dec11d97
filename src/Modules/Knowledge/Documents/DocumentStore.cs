using System.Security.Cryptography;
using Conclave.Knowledge.Contracts;
using Conclave.Knowledge.Ingest;
using Conclave.Knowledge.Storage;
using Conclave.Knowledge.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Wolverine;
using Wolverine.RDBMS;
using Wolverine.Runtime;

namespace Conclave.Knowledge.Documents;

/// <summary>
/// Adds, reads and deletes documents. An added document's stored copy, its row and the durable
/// <see cref="IngestDocument"/> message commit in one transaction (Wolverine's outbox on our own
/// connection), so a document is never stored without being queued, nor queued without its copy.
/// </summary>
internal sealed class DocumentStore(
    KnowledgeDatabase database,
    IKnowledgeCollections collections,
    IWolverineRuntime wolverine,
    DocumentNotifier notifier,
    TimeProvider clock,
    IOptions<KnowledgeOptions> options,
    ILogger<DocumentStore> logger) : IKnowledgeDocuments
{
    public const int MaxNameLength = 255;

    public async Task<DocumentAdded> AddAsync(string ownerId, Guid collectionId, string name, Stream content, CancellationToken cancellationToken)
    {
        name = ValidName(name);
        var collection = await collections.FindAsync(ownerId, collectionId, cancellationToken)
            ?? throw new KnowledgeNotFoundException("Collection", collectionId);
        var limits = options.Value.Limits;
        var (bytes, sha) = await ReadBoundedAsync(content, limits.MaxDocumentBytes, cancellationToken);

        await using var connection = await database.OpenAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        var outbox = new MessageContext(wolverine);
        var messages = wolverine.Storage as IMessageDatabase
            ?? throw new InvalidOperationException("Wolverine's message store is not PostgreSQL: the Knowledge module's outbox needs it.");
        await outbox.EnlistInOutboxAsync(new DatabaseEnvelopeTransaction(messages, tx));

        // One upload of an owner at a time: the storage total and the name lookup stay consistent.
        await ExecuteAsync(connection, tx, "SELECT pg_advisory_xact_lock(hashtextextended(@owner, 7))", cancellationToken, ("owner", ownerId));

        var existing = await ExistingAsync(connection, tx, "collection_id = @collection AND name = @name FOR UPDATE", collectionId, name, sha, cancellationToken);
        if (existing is { } same && same.Sha.AsSpan().SequenceEqual(sha) && same.State != nameof(DocumentState.Failed))
        {
            await tx.RollbackAsync(cancellationToken);
            return new DocumentAdded((await FindAsync(ownerId, same.Id, cancellationToken))!, false);
        }

        if (existing is null
            && await ExistingAsync(connection, tx, "collection_id = @collection AND sha256 = @sha AND state <> 'Failed' LIMIT 1", collectionId, name, sha, cancellationToken) is { } copy)
        {
            await tx.RollbackAsync(cancellationToken);
            return new DocumentAdded((await FindAsync(ownerId, copy.Id, cancellationToken))!, false);
        }

        await using (var used = new NpgsqlCommand("SELECT coalesce(sum(size_bytes), 0)::bigint FROM knowledge.documents WHERE owner_id = @owner", connection, tx))
        {
            used.Parameters.AddWithValue("owner", ownerId);
            var total = (long)(await used.ExecuteScalarAsync(cancellationToken))! - (existing?.Size ?? 0) + bytes.Length;
            if (total > limits.MaxStorageBytesPerUser)
            {
                throw new KnowledgeLimitException(
                    nameof(KnowledgeLimitsOptions.MaxStorageBytesPerUser),
                    $"Storing this document would take your documents to {total:N0} bytes; the limit is {limits.MaxStorageBytesPerUser:N0} bytes per user (MaxStorageBytesPerUser). Delete documents first.");
            }
        }

        var now = clock.GetUtcNow();
        var id = existing?.Id ?? Guid.CreateVersion7();
        var version = (existing?.Version ?? 0) + 1;
        var write = existing is null
            ? """
              INSERT INTO knowledge.documents (id, collection_id, owner_id, name, size_bytes, sha256, version, state, created_at, updated_at)
              VALUES (@id, @collection, @owner, @name, @size, @sha, @version, 'Queued', @now, @now)
              """
            : """
              UPDATE knowledge.documents SET size_bytes = @size, sha256 = @sha, version = @version, state = 'Queued', kind = NULL, pages = NULL,
                  chunks_embedded = 0, chunks_total = 0, failure = NULL, attempts = 0, lease_node = NULL, heartbeat_at = NULL, updated_at = @now
              WHERE id = @id
              """;
        await ExecuteAsync(connection, tx, write, cancellationToken,
            ("id", id), ("collection", collectionId), ("owner", ownerId), ("name", name), ("size", (long)bytes.Length), ("sha", sha), ("version", version), ("now", now));
        await ExecuteAsync(connection, tx,
            "INSERT INTO knowledge.sources (document_id, version, sha256, content) VALUES (@id, @version, @sha, @content)",
            cancellationToken, ("id", id), ("version", version), ("sha", sha), ("content", bytes));
        await outbox.SendAsync(new IngestDocument(id, version));
        await tx.CommitAsync(cancellationToken);

        Log.DocumentQueued(logger, id, version, collection.Id, bytes.Length);
        var added = (await FindAsync(ownerId, id, CancellationToken.None))!;
        // Queued is told before the ingest is let go, so it never lands after the worker's Extracting.
        // (Committed, the message is durable: should this process die here, Wolverine's recovery sends it.)
        await notifier.PublishAsync(DocumentRows.Changed(added, collection.SessionId), CancellationToken.None);
        await outbox.FlushOutgoingMessagesAsync();
        return new DocumentAdded(added, true);
    }

    public async Task<KnowledgeDocument?> FindAsync(string ownerId, Guid documentId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return (await DocumentRows.FindAsync(connection, documentId, ownerId, cancellationToken))?.Document;
    }

    public async Task<IReadOnlyList<KnowledgeDocument>> ListAsync(string ownerId, Guid collectionId, CancellationToken cancellationToken)
    {
        if (await collections.FindAsync(ownerId, collectionId, cancellationToken) is null)
        {
            throw new KnowledgeNotFoundException("Collection", collectionId);
        }

        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(DocumentRows.Select + " WHERE d.collection_id = @collection AND d.owner_id = @owner ORDER BY d.name, d.id", connection);
        command.Parameters.AddWithValue("collection", collectionId);
        command.Parameters.AddWithValue("owner", ownerId);
        var documents = new List<KnowledgeDocument>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            documents.Add(DocumentRows.Read(reader).Document);
        }

        return documents;
    }

    public async Task DeleteAsync(string ownerId, Guid documentId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        // Chunks, pending chunks and stored copies cascade: the document leaves search with this statement.
        await using var delete = new NpgsqlCommand(
            """
            DELETE FROM knowledge.documents d USING knowledge.collections c
            WHERE d.id = @id AND d.owner_id = @owner AND c.id = d.collection_id
            RETURNING d.name, d.version, c.session_id
            """,
            connection);
        delete.Parameters.AddWithValue("id", documentId);
        delete.Parameters.AddWithValue("owner", ownerId);
        string name;
        int version;
        Guid? sessionId;
        await using (var reader = await delete.ExecuteReaderAsync(cancellationToken))
        {
            if (!await reader.ReadAsync(cancellationToken))
            {
                throw new KnowledgeNotFoundException("Document", documentId);
            }

            (name, version, sessionId) = (reader.GetString(0), reader.GetInt32(1), reader.IsDBNull(2) ? null : reader.GetGuid(2));
        }

        Log.DocumentDeleted(logger, documentId);
        await notifier.RemovedAsync(documentId, sessionId, name, version, CancellationToken.None);
    }

    public async Task<DocumentText> ReadTextAsync(string ownerId, Guid documentId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var document = (await DocumentRows.FindAsync(connection, documentId, ownerId, cancellationToken))?.Document
            ?? throw new KnowledgeNotFoundException("Document", documentId);
        await using var command = new NpgsqlCommand(
            "SELECT page, heading, body, overlap FROM knowledge.chunks WHERE document_id = @id AND owner_id = @owner ORDER BY ordinal", connection);
        command.Parameters.AddWithValue("id", documentId);
        command.Parameters.AddWithValue("owner", ownerId);
        var sections = new List<DocumentSection>();
        var text = new System.Text.StringBuilder();
        (int? Page, string? Heading)? open = null;
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                int? page = reader.IsDBNull(0) ? null : reader.GetInt32(0);
                var heading = reader.IsDBNull(1) ? null : reader.GetString(1);
                var body = reader.GetString(2);
                var overlap = Math.Clamp(reader.GetInt32(3), 0, body.Length);
                if (open != (page, heading))
                {
                    Close();
                    open = (page, heading);
                    overlap = 0; // a new section starts with its own text, whatever its first chunk carried
                }

                var fresh = body[overlap..];
                if (text.Length > 0 && fresh.Length > 0 && !char.IsWhiteSpace(fresh[0]) && !char.IsWhiteSpace(text[^1]))
                {
                    text.Append(' ');
                }

                text.Append(fresh);
            }
        }

        Close();
        return new DocumentText(document, sections);

        void Close()
        {
            if (open is { } section && text.Length > 0)
            {
                sections.Add(new DocumentSection(section.Page, section.Heading, text.ToString().Trim()));
            }

            text.Clear();
        }
    }

    public async Task<DocumentContent> ReadContentAsync(string ownerId, Guid documentId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var document = (await DocumentRows.FindAsync(connection, documentId, ownerId, cancellationToken))?.Document
            ?? throw new KnowledgeNotFoundException("Document", documentId);
        await using var command = new NpgsqlCommand("SELECT content FROM knowledge.sources WHERE document_id = @id AND version = @version", connection);
        command.Parameters.AddWithValue("id", documentId);
        command.Parameters.AddWithValue("version", document.Version);
        return await command.ExecuteScalarAsync(cancellationToken) is byte[] bytes
            ? new DocumentContent(document, bytes)
            : throw new KnowledgeNotFoundException("Document", documentId);
    }

    private static string ValidName(string? name)
    {
        // A client's file name may carry a path: only its last segment names the document.
        name = (name ?? "").Replace('\\', '/');
        name = name[(name.LastIndexOf('/') + 1)..].Trim();
        if (name.Length is 0 or > MaxNameLength || name.Any(char.IsControl))
        {
            throw new KnowledgeValidationException("name", $"Give the document a file name of 1 to {MaxNameLength} characters without control characters, e.g. report.pdf.");
        }

        return name;
    }

    /// <summary>Reads the content once into memory, hashing as it goes, and stops past the size limit.</summary>
    private static async Task<(byte[] Bytes, byte[] Sha)> ReadBoundedAsync(Stream content, long limit, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await content.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                throw TooLarge(limit);
            }

            hash.AppendData(chunk, 0, read);
            buffer.Write(chunk, 0, read);
        }

        return (buffer.ToArray(), hash.GetHashAndReset());
    }

    public static KnowledgeLimitException TooLarge(long limit) => new(
        nameof(KnowledgeLimitsOptions.MaxDocumentBytes),
        $"The document is larger than {limit:N0} bytes, the limit per document (MaxDocumentBytes). Split it into smaller documents.");

    private sealed record Existing(Guid Id, byte[] Sha, int Version, string State, long Size);

    private static async Task<Existing?> ExistingAsync(
        NpgsqlConnection connection, NpgsqlTransaction tx, string where, Guid collectionId, string name, byte[] sha, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"SELECT id, sha256, version, state, size_bytes FROM knowledge.documents WHERE {where}", connection, tx);
        command.Parameters.AddWithValue("collection", collectionId);
        command.Parameters.AddWithValue("name", name);
        command.Parameters.AddWithValue("sha", sha);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new Existing(reader.GetGuid(0), reader.GetFieldValue<byte[]>(1), reader.GetInt32(2), reader.GetString(3), reader.GetInt64(4))
            : null;
    }

    private static async Task ExecuteAsync(
        NpgsqlConnection connection, NpgsqlTransaction tx, string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection, tx);
        foreach (var (parameterName, value) in parameters)
        {
            command.Parameters.AddWithValue(parameterName, value);
        }

        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
