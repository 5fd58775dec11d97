using Conclave.Knowledge.Contracts;
using Conclave.Knowledge.Storage;
using Conclave.Sessions.Contracts;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace Conclave.Knowledge.Collections;

/// <summary>Collections and libraries in <c>knowledge.collections</c>; every query is filtered by owner.</summary>
internal sealed class CollectionStore(KnowledgeDatabase database, ISessions sessions, TimeProvider clock, IOptions<KnowledgeOptions> options)
    : IKnowledgeCollections
{
    public const int MaxNameLength = 200;
    public const int MaxDescriptionLength = 2_000;

    private const string Select = """
        SELECT c.id, c.owner_id, c.kind, c.name, c.description, c.session_id, c.created_at, c.updated_at,
               (SELECT count(*) FROM knowledge.documents d WHERE d.collection_id = c.id),
               (SELECT coalesce(sum(d.size_bytes), 0) FROM knowledge.documents d WHERE d.collection_id = c.id),
               coalesce((SELECT array_agg(a.target || ':' || a.target_id ORDER BY a.target, a.target_id) FROM knowledge.attachments a WHERE a.collection_id = c.id), '{}')
        FROM knowledge.collections c
        """;

    public async Task<KnowledgeCollection> ForSessionAsync(string ownerId, Guid sessionId, CancellationToken cancellationToken)
    {
        if (await FindForSessionAsync(ownerId, sessionId, cancellationToken) is { } existing)
        {
            return existing;
        }

        await RequireSessionAsync(ownerId, sessionId, cancellationToken);
        var now = clock.GetUtcNow();
        await using (var connection = await database.OpenAsync(cancellationToken))
        {
            await using var insert = new NpgsqlCommand(
                """
                INSERT INTO knowledge.collections (id, owner_id, kind, session_id, name, created_at, updated_at)
                VALUES (@id, @owner, 'Session', @session, @name, @now, @now)
                ON CONFLICT (session_id) DO NOTHING
                """,
                connection);
            insert.Parameters.AddWithValue("id", Guid.CreateVersion7());
            insert.Parameters.AddWithValue("owner", ownerId);
            insert.Parameters.AddWithValue("session", sessionId);
            insert.Parameters.AddWithValue("name", "Session documents");
            insert.Parameters.AddWithValue("now", now);
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        return await FindForSessionAsync(ownerId, sessionId, cancellationToken)
            ?? throw new KnowledgeNotFoundException("Session", sessionId);
    }

    public async Task<KnowledgeCollection?> FindForSessionAsync(string ownerId, Guid sessionId, CancellationToken cancellationToken) =>
        (await QueryAsync($"{Select} WHERE c.owner_id = @owner AND c.session_id = @id", ownerId, sessionId, cancellationToken)).SingleOrDefault();

    public async Task<IReadOnlyList<KnowledgeCollection>> ListLibrariesAsync(string ownerId, CancellationToken cancellationToken) =>
        await QueryAsync($"{Select} WHERE c.owner_id = @owner AND c.kind = 'Library' ORDER BY lower(c.name), c.id", ownerId, null, cancellationToken);

    public async Task<KnowledgeCollection?> FindAsync(string ownerId, Guid collectionId, CancellationToken cancellationToken) =>
        (await QueryAsync($"{Select} WHERE c.owner_id = @owner AND c.id = @id", ownerId, collectionId, cancellationToken)).SingleOrDefault();

    public async Task<KnowledgeCollection> CreateLibraryAsync(string ownerId, string name, string? description, CancellationToken cancellationToken)
    {
        (name, description) = Validate(name, description);
        var id = Guid.CreateVersion7();
        var now = clock.GetUtcNow();
        await using (var connection = await database.OpenAsync(cancellationToken))
        {
            await using var insert = new NpgsqlCommand(
                """
                INSERT INTO knowledge.collections (id, owner_id, kind, name, description, created_at, updated_at)
                SELECT @id, @owner, 'Library', @name, @description, @now, @now
                WHERE (SELECT count(*) FROM knowledge.collections WHERE owner_id = @owner AND kind = 'Library') < @max
                """,
                connection);
            insert.Parameters.AddWithValue("id", id);
            insert.Parameters.AddWithValue("owner", ownerId);
            insert.Parameters.AddWithValue("name", name);
            insert.Parameters.Add(new NpgsqlParameter("description", NpgsqlDbType.Text) { Value = (object?)description ?? DBNull.Value });
            insert.Parameters.AddWithValue("now", now);
            var max = options.Value.Limits.MaxLibrariesPerUser;
            insert.Parameters.AddWithValue("max", max);
            if (await insert.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                throw new KnowledgeLimitException(
                    nameof(KnowledgeLimitsOptions.MaxLibrariesPerUser),
                    $"You have {max} libraries, the most one user may keep (MaxLibrariesPerUser). Delete one first.");
            }
        }

        return (await FindAsync(ownerId, id, cancellationToken))!;
    }

    public async Task<KnowledgeCollection> UpdateLibraryAsync(string ownerId, Guid libraryId, string name, string? description, CancellationToken cancellationToken)
    {
        (name, description) = Validate(name, description);
        await using (var connection = await database.OpenAsync(cancellationToken))
        {
            await using var update = new NpgsqlCommand(
                "UPDATE knowledge.collections SET name = @name, description = @description, updated_at = @now WHERE id = @id AND owner_id = @owner AND kind = 'Library'",
                connection);
            update.Parameters.AddWithValue("id", libraryId);
            update.Parameters.AddWithValue("owner", ownerId);
            update.Parameters.AddWithValue("name", name);
            update.Parameters.Add(new NpgsqlParameter("description", NpgsqlDbType.Text) { Value = (object?)description ?? DBNull.Value });
            update.Parameters.AddWithValue("now", clock.GetUtcNow());
            if (await update.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                throw new KnowledgeNotFoundException("Library", libraryId);
            }
        }

        return (await FindAsync(ownerId, libraryId, cancellationToken))!;
    }

    public async Task DeleteLibraryAsync(string ownerId, Guid libraryId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        // Documents, stored copies and chunks go with it (ON DELETE CASCADE), in this one statement.
        await using var delete = new NpgsqlCommand(
            "DELETE FROM knowledge.collections WHERE id = @id AND owner_id = @owner AND kind = 'Library'", connection);
        delete.Parameters.AddWithValue("id", libraryId);
        delete.Parameters.AddWithValue("owner", ownerId);
        if (await delete.ExecuteNonQueryAsync(cancellationToken) == 0)
        {
            throw new KnowledgeNotFoundException("Library", libraryId);
        }
    }

    public async Task<KnowledgeCollection> AttachAsync(string ownerId, Guid libraryId, CollectionAttachment attachment, CancellationToken cancellationToken)
    {
        await RequireLibraryAsync(ownerId, libraryId, cancellationToken);
        if (attachment.Target == AttachmentTarget.Session)
        {
            await RequireSessionAsync(ownerId, attachment.TargetId, cancellationToken);
        }

        // A team id is not checked here (teams belong to the Agents module): an attachment only ever
        // widens what this owner's own runs of that team see, so a wrong id reaches nobody else.
        await using (var connection = await database.OpenAsync(cancellationToken))
        {
            await using var insert = new NpgsqlCommand(
                """
                INSERT INTO knowledge.attachments (collection_id, owner_id, target, target_id) VALUES (@id, @owner, @target, @targetId)
                ON CONFLICT DO NOTHING
                """,
                connection);
            insert.Parameters.AddWithValue("id", libraryId);
            insert.Parameters.AddWithValue("owner", ownerId);
            insert.Parameters.AddWithValue("target", attachment.Target.ToString());
            insert.Parameters.AddWithValue("targetId", attachment.TargetId);
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        return (await FindAsync(ownerId, libraryId, cancellationToken))!;
    }

    public async Task<KnowledgeCollection> DetachAsync(string ownerId, Guid libraryId, CollectionAttachment attachment, CancellationToken cancellationToken)
    {
        await RequireLibraryAsync(ownerId, libraryId, cancellationToken);
        await using (var connection = await database.OpenAsync(cancellationToken))
        {
            await using var delete = new NpgsqlCommand(
                "DELETE FROM knowledge.attachments WHERE collection_id = @id AND owner_id = @owner AND target = @target AND target_id = @targetId",
                connection);
            delete.Parameters.AddWithValue("id", libraryId);
            delete.Parameters.AddWithValue("owner", ownerId);
            delete.Parameters.AddWithValue("target", attachment.Target.ToString());
            delete.Parameters.AddWithValue("targetId", attachment.TargetId);
            await delete.ExecuteNonQueryAsync(cancellationToken);
        }

        return (await FindAsync(ownerId, libraryId, cancellationToken))!;
    }

    public async Task<IReadOnlyList<Guid>> VisibleAsync(string ownerId, Guid? sessionId, Guid? teamId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            """
            SELECT id FROM knowledge.collections WHERE owner_id = @owner AND session_id = @session
            UNION
            SELECT a.collection_id FROM knowledge.attachments a
            WHERE a.owner_id = @owner AND ((a.target = 'Session' AND a.target_id = @session) OR (a.target = 'Team' AND a.target_id = @team))
            """,
            connection);
        command.Parameters.AddWithValue("owner", ownerId);
        command.Parameters.Add(new NpgsqlParameter("session", NpgsqlDbType.Uuid) { Value = (object?)sessionId ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("team", NpgsqlDbType.Uuid) { Value = (object?)teamId ?? DBNull.Value });
        var ids = new List<Guid>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            ids.Add(reader.GetGuid(0));
        }

        return ids;
    }

    /// <summary>Removes a deleted session's collection (documents and chunks cascade) and its attachments.</summary>
    public async Task RemoveSessionAsync(string ownerId, Guid sessionId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var delete = new NpgsqlCommand(
            """
            DELETE FROM knowledge.collections WHERE owner_id = @owner AND session_id = @session;
            DELETE FROM knowledge.attachments WHERE owner_id = @owner AND target = 'Session' AND target_id = @session;
            """,
            connection);
        delete.Parameters.AddWithValue("owner", ownerId);
        delete.Parameters.AddWithValue("session", sessionId);
        await delete.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task RequireSessionAsync(string ownerId, Guid sessionId, CancellationToken cancellationToken)
    {
        if (await sessions.FindAsync(ownerId, sessionId, cancellationToken) is not { Deleted: false })
        {
            throw new KnowledgeNotFoundException("Session", sessionId);
        }
    }

    private async Task RequireLibraryAsync(string ownerId, Guid libraryId, CancellationToken cancellationToken)
    {
        if (await FindAsync(ownerId, libraryId, cancellationToken) is not { Kind: CollectionKind.Library })
        {
            throw new KnowledgeNotFoundException("Library", libraryId);
        }
    }

    private static (string Name, string? Description) Validate(string? name, string? description)
    {
        name = name?.Trim() ?? "";
        if (name.Length is 0 or > MaxNameLength || name.Any(char.IsControl))
        {
            throw new KnowledgeValidationException("name", $"Give the library a name of 1 to {MaxNameLength} characters without control characters.");
        }

        description = string.IsNullOrWhiteSpace(description) ? null : description.Trim();
        if (description is { Length: > MaxDescriptionLength })
        {
            throw new KnowledgeValidationException("description", $"The description is longer than {MaxDescriptionLength} characters.");
        }

        return (name, description);
    }

    private async Task<List<KnowledgeCollection>> QueryAsync(string sql, string ownerId, Guid? id, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("owner", ownerId);
        if (id is { } value)
        {
            command.Parameters.AddWithValue("id", value);
        }

        var collections = new List<KnowledgeCollection>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var attachments = reader.GetFieldValue<string[]>(10).Select(a =>
            {
                var parts = a.Split(':', 2);
                return new CollectionAttachment(Enum.Parse<AttachmentTarget>(parts[0]), Guid.Parse(parts[1]));
            }).ToList();
            collections.Add(new KnowledgeCollection(
                reader.GetGuid(0),
                reader.GetString(1),
                Enum.Parse<CollectionKind>(reader.GetString(2)),
                reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetString(4),
                reader.IsDBNull(5) ? null : reader.GetGuid(5),
                attachments,
                (int)reader.GetInt64(8),
                reader.GetInt64(9),
                reader.GetFieldValue<DateTimeOffset>(6),
                reader.GetFieldValue<DateTimeOffset>(7)));
        }

        return collections;
    }
}
