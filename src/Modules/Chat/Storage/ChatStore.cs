using System.Data.Common;
using Conclave.Chat.Contracts;
using Npgsql;
using ChannelBinding = Conclave.Chat.Contracts.ChannelBinding;

namespace Conclave.Chat.Storage;

/// <summary>The module's reads and writes, one statement each.</summary>
internal sealed class ChatStore(ChatDatabase database, TimeProvider time)
{
    public async Task InsertConnectionAsync(StoredConnection c, CancellationToken ct)
    {
        await ExecuteAsync(
            $"""
            INSERT INTO {ChatDatabase.Schema}.connections
                (id, platform, name, mode, bot_token, app_token, signing_secret, bot_token_hint, app_token_hint, signing_secret_hint, enabled)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
            """,
            ct,
            c.Id, c.Platform.ToString(), c.Name, c.Mode.ToString(), c.BotToken, Db(c.AppToken), Db(c.SigningSecret),
            c.BotTokenHint, Db(c.AppTokenHint), Db(c.SigningSecretHint), c.Enabled);
    }

    public async Task<IReadOnlyList<StoredConnection>> ConnectionsAsync(CancellationToken ct) =>
        await QueryAsync(
            $"""
            SELECT id, platform, name, mode, bot_token, app_token, signing_secret, bot_token_hint, app_token_hint, signing_secret_hint, enabled
            FROM {ChatDatabase.Schema}.connections ORDER BY created_at, id
            """,
            ReadConnection,
            ct);

    public async Task<StoredConnection?> ConnectionAsync(Guid id, CancellationToken ct) =>
        (await QueryAsync(
            $"""
            SELECT id, platform, name, mode, bot_token, app_token, signing_secret, bot_token_hint, app_token_hint, signing_secret_hint, enabled
            FROM {ChatDatabase.Schema}.connections WHERE id = $1
            """,
            ReadConnection,
            ct,
            id)).SingleOrDefault();

    public async Task<bool> SetEnabledAsync(Guid id, bool enabled, CancellationToken ct) =>
        await ExecuteAsync($"UPDATE {ChatDatabase.Schema}.connections SET enabled = $2 WHERE id = $1", ct, id, enabled) == 1;

    public async Task<bool> DeleteConnectionAsync(Guid id, CancellationToken ct) =>
        await ExecuteAsync($"DELETE FROM {ChatDatabase.Schema}.connections WHERE id = $1", ct, id) == 1;

    public Task BindAsync(Guid connectionId, ChannelBinding binding, CancellationToken ct) =>
        ExecuteAsync(
            $"""
            INSERT INTO {ChatDatabase.Schema}.bindings (connection_id, channel_id, team_id, team_name) VALUES ($1, $2, $3, $4)
            ON CONFLICT (connection_id, channel_id) DO UPDATE SET team_id = excluded.team_id, team_name = excluded.team_name
            """,
            ct,
            connectionId, binding.ChannelId, binding.TeamId, binding.TeamName);

    public Task UnbindAsync(Guid connectionId, string channelId, CancellationToken ct) =>
        ExecuteAsync($"DELETE FROM {ChatDatabase.Schema}.bindings WHERE connection_id = $1 AND channel_id = $2", ct, connectionId, channelId);

    public async Task<IReadOnlyList<(Guid ConnectionId, ChannelBinding Binding)>> BindingsAsync(CancellationToken ct) =>
        await QueryAsync(
            $"SELECT connection_id, channel_id, team_id, team_name FROM {ChatDatabase.Schema}.bindings ORDER BY channel_id",
            r => (r.GetGuid(0), new ChannelBinding(r.GetString(1), r.GetGuid(2), r.GetString(3))),
            ct);

    public async Task<ChannelBinding?> BindingAsync(Guid connectionId, string channelId, CancellationToken ct) =>
        (await QueryAsync(
            $"SELECT channel_id, team_id, team_name FROM {ChatDatabase.Schema}.bindings WHERE connection_id = $1 AND channel_id = $2",
            r => new ChannelBinding(r.GetString(0), r.GetGuid(1), r.GetString(2)),
            ct,
            connectionId,
            channelId)).SingleOrDefault();

    /// <summary>Records an incoming event id; false when it was recorded before (a retry or a replay).</summary>
    public async Task<bool> RecordEventAsync(Guid connectionId, string eventId, CancellationToken ct) =>
        await ExecuteAsync(
            $"INSERT INTO {ChatDatabase.Schema}.events (connection_id, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            ct,
            connectionId,
            eventId) == 1;

    /// <summary>Drops event ids older than any platform retries or replays (Slack retries for minutes, a Gateway resume is short).</summary>
    public Task PruneEventsAsync(TimeSpan olderThan, CancellationToken ct) =>
        ExecuteAsync($"DELETE FROM {ChatDatabase.Schema}.events WHERE received_at < $1", ct, time.GetUtcNow() - olderThan);

    /// <summary>Forgets an event whose handling failed, so the platform's retry can do it.</summary>
    public Task ForgetEventAsync(Guid connectionId, string eventId, CancellationToken ct) =>
        ExecuteAsync($"DELETE FROM {ChatDatabase.Schema}.events WHERE connection_id = $1 AND event_id = $2", ct, connectionId, eventId);

    public async Task<string?> LinkedOwnerAsync(Guid connectionId, string chatUserId, CancellationToken ct) =>
        (await QueryAsync(
            $"SELECT owner_id FROM {ChatDatabase.Schema}.links WHERE connection_id = $1 AND chat_user_id = $2",
            r => r.GetString(0),
            ct,
            connectionId,
            chatUserId)).SingleOrDefault();

    public Task AddLinkTokenAsync(string tokenHash, Guid connectionId, string chatUserId, DateTimeOffset expiresAt, CancellationToken ct) =>
        ExecuteAsync(
            $"INSERT INTO {ChatDatabase.Schema}.link_tokens (token_hash, connection_id, chat_user_id, expires_at) VALUES ($1, $2, $3, $4)",
            ct,
            tokenHash, connectionId, chatUserId, expiresAt);

    public async Task<(Guid ConnectionId, string ChatUserId, DateTimeOffset ExpiresAt)?> PendingLinkAsync(string tokenHash, CancellationToken ct)
    {
        var rows = await QueryAsync(
            $"""
            SELECT connection_id, chat_user_id, expires_at FROM {ChatDatabase.Schema}.link_tokens
            WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2
            """,
            r => (r.GetGuid(0), r.GetString(1), r.GetFieldValue<DateTimeOffset>(2)),
            ct,
            tokenHash,
            time.GetUtcNow());
        return rows.Count == 1 ? rows[0] : null;
    }

    /// <summary>Uses the token (once) and links its chat user to <paramref name="ownerId"/>, in one transaction.</summary>
    public async Task<bool> CompleteLinkAsync(string tokenHash, string ownerId, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var now = time.GetUtcNow();
        await using var use = new NpgsqlCommand(
            $"""
            UPDATE {ChatDatabase.Schema}.link_tokens SET used_at = $2
            WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2
            RETURNING connection_id, chat_user_id
            """,
            connection,
            tx);
        use.Parameters.Add(new NpgsqlParameter { Value = tokenHash });
        use.Parameters.Add(new NpgsqlParameter { Value = now });
        Guid connectionId;
        string chatUserId;
        await using (var reader = await use.ExecuteReaderAsync(ct))
        {
            if (!await reader.ReadAsync(ct))
            {
                return false;
            }

            connectionId = reader.GetGuid(0);
            chatUserId = reader.GetString(1);
        }

        await using var link = new NpgsqlCommand(
            $"""
            INSERT INTO {ChatDatabase.Schema}.links (connection_id, chat_user_id, owner_id, linked_at) VALUES ($1, $2, $3, $4)
            ON CONFLICT (connection_id, chat_user_id) DO UPDATE SET owner_id = excluded.owner_id, linked_at = excluded.linked_at
            """,
            connection,
            tx);
        foreach (var value in new object[] { connectionId, chatUserId, ownerId, now })
        {
            link.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        await link.ExecuteNonQueryAsync(ct);
        await tx.CommitAsync(ct);
        return true;
    }

    public async Task<ThreadSession?> ThreadAsync(Guid connectionId, string channelId, string threadId, CancellationToken ct) =>
        (await QueryAsync(
            $"SELECT session_id, owner_id FROM {ChatDatabase.Schema}.threads WHERE connection_id = $1 AND channel_id = $2 AND thread_id = $3",
            r => new ThreadSession(r.GetGuid(0), r.GetString(1)),
            ct,
            connectionId,
            channelId,
            threadId)).SingleOrDefault();

    /// <summary>Maps the thread to the session unless it is mapped already; returns the mapping that stands.</summary>
    public async Task<ThreadSession> AddThreadAsync(ChatPlace place, ThreadSession session, CancellationToken ct)
    {
        await ExecuteAsync(
            $"""
            INSERT INTO {ChatDatabase.Schema}.threads (connection_id, channel_id, thread_id, session_id, owner_id) VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT DO NOTHING
            """,
            ct,
            place.ConnectionId, place.ChannelId, place.ThreadId, session.SessionId, session.OwnerId);
        return (await ThreadAsync(place.ConnectionId, place.ChannelId, place.ThreadId, ct))!;
    }

    public Task AddAnswerAsync(OwedAnswer answer, CancellationToken ct) =>
        ExecuteAsync(
            $"""
            INSERT INTO {ChatDatabase.Schema}.answers (run_id, connection_id, channel_id, thread_id, session_id, owner_id, queued_version)
            VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING
            """,
            ct,
            answer.RunId, answer.Place.ConnectionId, answer.Place.ChannelId, answer.Place.ThreadId, answer.SessionId, answer.OwnerId, answer.QueuedVersion);

    private const string AnswerColumns = "run_id, connection_id, channel_id, thread_id, session_id, owner_id, queued_version, message_id, parts_posted, done";

    public async Task<OwedAnswer?> AnswerAsync(Guid runId, CancellationToken ct) =>
        (await QueryAsync($"SELECT {AnswerColumns} FROM {ChatDatabase.Schema}.answers WHERE run_id = $1", ReadAnswer, ct, runId)).SingleOrDefault();

    public async Task<IReadOnlyList<OwedAnswer>> OpenAnswersAsync(Guid connectionId, CancellationToken ct) =>
        await QueryAsync(
            $"SELECT {AnswerColumns} FROM {ChatDatabase.Schema}.answers WHERE connection_id = $1 AND NOT done ORDER BY created_at",
            ReadAnswer,
            ct,
            connectionId);

    public Task SetAnswerMessageAsync(Guid runId, string messageId, CancellationToken ct) =>
        ExecuteAsync($"UPDATE {ChatDatabase.Schema}.answers SET message_id = $2 WHERE run_id = $1", ct, runId, messageId);

    public Task SetPartsPostedAsync(Guid runId, int parts, CancellationToken ct) =>
        ExecuteAsync($"UPDATE {ChatDatabase.Schema}.answers SET parts_posted = $2 WHERE run_id = $1", ct, runId, parts);

    public Task CompleteAnswerAsync(Guid runId, CancellationToken ct) =>
        ExecuteAsync($"UPDATE {ChatDatabase.Schema}.answers SET done = true WHERE run_id = $1", ct, runId);

    private static OwedAnswer ReadAnswer(DbDataReader r) => new(
        r.GetGuid(0),
        new ChatPlace(r.GetGuid(1), r.GetString(2), r.GetString(3)),
        r.GetGuid(4),
        r.GetString(5),
        r.GetInt64(6),
        r.IsDBNull(7) ? null : r.GetString(7),
        r.GetInt32(8),
        r.GetBoolean(9));

    private static StoredConnection ReadConnection(DbDataReader r) => new(
        r.GetGuid(0),
        Enum.Parse<ChatPlatform>(r.GetString(1)),
        r.GetString(2),
        Enum.Parse<SlackMode>(r.GetString(3)),
        r.GetString(4),
        r.IsDBNull(5) ? null : r.GetString(5),
        r.IsDBNull(6) ? null : r.GetString(6),
        r.GetString(7),
        r.IsDBNull(8) ? null : r.GetString(8),
        r.IsDBNull(9) ? null : r.GetString(9),
        r.GetBoolean(10));

    private static object Db(string? value) => value is null ? DBNull.Value : value;

    private async Task<int> ExecuteAsync(string sql, CancellationToken ct, params object[] values)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var command = Command(sql, connection, values);
        return await command.ExecuteNonQueryAsync(ct);
    }

    private async Task<List<T>> QueryAsync<T>(string sql, Func<DbDataReader, T> read, CancellationToken ct, params object[] values)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var command = Command(sql, connection, values);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var rows = new List<T>();
        while (await reader.ReadAsync(ct))
        {
            rows.Add(read(reader));
        }

        return rows;
    }

    private static NpgsqlCommand Command(string sql, NpgsqlConnection connection, object[] values)
    {
        var command = new NpgsqlCommand(sql, connection);
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        return command;
    }
}
