using Conclave.Chat.Contracts;
using Npgsql;

namespace Conclave.Chat.Storage;

/// <summary>
/// The module's own schema, <c>chat</c>: connections (secrets as ciphertext), channel bindings, account
/// links, thread-to-session mappings, the ids of events already taken in, and the answers owed to threads.
/// Plain SQL, created idempotently at start-up under an advisory lock; uniqueness in the tables is what
/// makes a retried or replayed event start nothing.
/// </summary>
internal sealed class ChatDatabase(string connectionString) : IAsyncDisposable
{
    public const string Schema = "chat";

    private const long SchemaLock = 0x636861747363686d; // "chatschm"

    private readonly NpgsqlDataSource _dataSource = NpgsqlDataSource.Create(connectionString);
    private Task? _schema;
    private readonly Lock _lock = new();

    public async Task<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        Task schema;
        lock (_lock)
        {
            schema = _schema ??= CreateSchemaAsync();
        }

        await schema.WaitAsync(cancellationToken);
        return await _dataSource.OpenConnectionAsync(cancellationToken);
    }

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();

    private async Task CreateSchemaAsync()
    {
        await using var connection = await _dataSource.OpenConnectionAsync();
        await using var tx = await connection.BeginTransactionAsync();
        await using (var lockCommand = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({SchemaLock})", connection, tx))
        {
            await lockCommand.ExecuteNonQueryAsync();
        }

        await using (var ddl = new NpgsqlCommand(Ddl, connection, tx))
        {
            await ddl.ExecuteNonQueryAsync();
        }

        await tx.CommitAsync();
    }

    private const string Ddl = $"""
        CREATE SCHEMA IF NOT EXISTS {Schema};

        CREATE TABLE IF NOT EXISTS {Schema}.connections (
            id uuid PRIMARY KEY,
            platform text NOT NULL,
            name text NOT NULL,
            mode text NOT NULL,
            bot_token text NOT NULL,
            app_token text,
            signing_secret text,
            bot_token_hint text NOT NULL,
            app_token_hint text,
            signing_secret_hint text,
            enabled boolean NOT NULL DEFAULT false,
            created_at timestamptz NOT NULL DEFAULT now()
        );

        CREATE TABLE IF NOT EXISTS {Schema}.bindings (
            connection_id uuid NOT NULL REFERENCES {Schema}.connections (id) ON DELETE CASCADE,
            channel_id text NOT NULL,
            team_id uuid NOT NULL,
            team_name text NOT NULL,
            PRIMARY KEY (connection_id, channel_id)
        );

        CREATE TABLE IF NOT EXISTS {Schema}.links (
            connection_id uuid NOT NULL REFERENCES {Schema}.connections (id) ON DELETE CASCADE,
            chat_user_id text NOT NULL,
            owner_id text NOT NULL,
            linked_at timestamptz NOT NULL,
            PRIMARY KEY (connection_id, chat_user_id)
        );

        CREATE TABLE IF NOT EXISTS {Schema}.link_tokens (
            token_hash text PRIMARY KEY,
            connection_id uuid NOT NULL REFERENCES {Schema}.connections (id) ON DELETE CASCADE,
            chat_user_id text NOT NULL,
            expires_at timestamptz NOT NULL,
            used_at timestamptz
        );

        CREATE TABLE IF NOT EXISTS {Schema}.threads (
            connection_id uuid NOT NULL REFERENCES {Schema}.connections (id) ON DELETE CASCADE,
            channel_id text NOT NULL,
            thread_id text NOT NULL,
            session_id uuid NOT NULL,
            owner_id text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (connection_id, channel_id, thread_id)
        );

        CREATE TABLE IF NOT EXISTS {Schema}.events (
            connection_id uuid NOT NULL REFERENCES {Schema}.connections (id) ON DELETE CASCADE,
            event_id text NOT NULL,
            received_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (connection_id, event_id)
        );

        CREATE TABLE IF NOT EXISTS {Schema}.answers (
            run_id uuid PRIMARY KEY,
            connection_id uuid NOT NULL REFERENCES {Schema}.connections (id) ON DELETE CASCADE,
            channel_id text NOT NULL,
            thread_id text NOT NULL,
            session_id uuid NOT NULL,
            owner_id text NOT NULL,
            queued_version bigint NOT NULL,
            message_id text,
            parts_posted integer NOT NULL DEFAULT 0,
            done boolean NOT NULL DEFAULT false,
            created_at timestamptz NOT NULL DEFAULT now()
        );

        CREATE INDEX IF NOT EXISTS answers_open ON {Schema}.answers (connection_id) WHERE NOT done;
        """;
}

/// <summary>A connection row with its secrets still encrypted.</summary>
internal sealed record StoredConnection(
    Guid Id,
    ChatPlatform Platform,
    string Name,
    SlackMode Mode,
    string BotToken,
    string? AppToken,
    string? SigningSecret,
    string BotTokenHint,
    string? AppTokenHint,
    string? SigningSecretHint,
    bool Enabled);

/// <summary>Where an answer goes: a channel and a thread in it.</summary>
internal sealed record ChatPlace(Guid ConnectionId, string ChannelId, string ThreadId);

internal sealed record ThreadSession(Guid SessionId, string OwnerId);

/// <summary>An answer owed to a thread: the run it follows (from its RunQueued event, version <c>QueuedVersion</c>) and how far its posting got.</summary>
internal sealed record OwedAnswer(Guid RunId, ChatPlace Place, Guid SessionId, string OwnerId, long QueuedVersion, string? MessageId, int PartsPosted, bool Done);
