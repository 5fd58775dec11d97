using System.Globalization;
using Conclave.Knowledge.Telemetry;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Conclave.Knowledge.Storage;

/// <summary>
/// The module's own PostgreSQL schema, <c>knowledge</c>, on a data source of its own with pgvector's
/// type mapping (Marten's data source does not know the vector type). Tables are plain SQL, created
/// idempotently at start-up under an advisory lock (ADR 0011).
/// </summary>
internal sealed class KnowledgeDatabase : IAsyncDisposable
{
    public const string Schema = "knowledge";

    // Any constant works: it only has to differ from other users of advisory locks in the database.
    private const long SchemaLock = 0x6b6e6f776c656467; // "knowledg"

    private readonly NpgsqlDataSource _dataSource;
    private readonly int _dimensions;
    private readonly ILogger<KnowledgeDatabase> _logger;
    private readonly Lazy<Task> _schema;

    public KnowledgeDatabase(string connectionString, IOptions<KnowledgeOptions> options, ILogger<KnowledgeDatabase> logger)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        // Search runs the same few statements all day: prepared once per connection (parsed once; planned each time, below).
        if (builder.ConnectionStringBuilder.MaxAutoPrepare == 0)
        {
            builder.ConnectionStringBuilder.MaxAutoPrepare = 32;
        }

        // Every connection of the module searches the same way: the HNSW settings (pgvector 0.8's iterative
        // scan keeps a filtered index scan going until it has enough rows), no JIT, whose compile time
        // exceeds any of these queries, and a plan made for each execution's values: once prepared, the
        // generic plan of the full-text list (which cannot see how rare the words are) took 1.7 times as
        // long. Set per connection, a search needs no transaction of its own.
        var search = options.Value.Search;
        builder.ConnectionStringBuilder.Options = string.Join(' ', new[]
        {
            builder.ConnectionStringBuilder.Options,
            "-c jit=off",
            "-c plan_cache_mode=force_custom_plan",
            string.Create(CultureInfo.InvariantCulture, $"-c hnsw.ef_search={search.EfSearch}"),
            "-c hnsw.iterative_scan=relaxed_order",
        }.Where(o => !string.IsNullOrWhiteSpace(o)));
        builder.UseVector();
        _dataSource = builder.Build();
        _dimensions = options.Value.Embedding.Dimensions;
        _logger = logger;
        _schema = new Lazy<Task>(() => CreateSchemaAsync(CancellationToken.None));
    }

    public int Dimensions => _dimensions;

    /// <summary>An open connection, once the schema exists.</summary>
    public async Task<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        await _schema.Value.WaitAsync(cancellationToken);
        return await _dataSource.OpenConnectionAsync(cancellationToken);
    }

    public Task EnsureSchemaAsync(CancellationToken cancellationToken) => _schema.Value.WaitAsync(cancellationToken);

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();

    private async Task CreateSchemaAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await EnsureVectorExtensionAsync(connection, cancellationToken);
        await using (var tx = await connection.BeginTransactionAsync(cancellationToken))
        {
            await using (var lockCommand = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({SchemaLock})", connection, tx))
            {
                await lockCommand.ExecuteNonQueryAsync(cancellationToken);
            }

            await using (var ddl = new NpgsqlCommand(Ddl(_dimensions, await HasLz4Async(connection, cancellationToken)), connection, tx))
            {
                await ddl.ExecuteNonQueryAsync(cancellationToken);
            }

            await tx.CommitAsync(cancellationToken);
        }

        // The extension's types were created after the data source loaded its type catalogue.
        await connection.ReloadTypesAsync(cancellationToken);
        await CheckDimensionsAsync(connection, cancellationToken);
        Log.SchemaReady(_logger, Schema, _dimensions);
    }

    /// <summary>Whether the server was built with LZ4 (Debian's and the official images are; a source build may not be).</summary>
    private static async Task<bool> HasLz4Async(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "SELECT coalesce(bool_or('lz4' = ANY(enumvals)), false) FROM pg_settings WHERE name = 'default_toast_compression'", connection);
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private static async Task EnsureVectorExtensionAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var exists = new NpgsqlCommand("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'vector')", connection);
        if ((bool)(await exists.ExecuteScalarAsync(cancellationToken))!)
        {
            return;
        }

        try
        {
            await using var create = new NpgsqlCommand("CREATE EXTENSION IF NOT EXISTS vector", connection);
            await create.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (PostgresException e)
        {
            throw new InvalidOperationException(
                $"The Knowledge module needs the pgvector extension in database '{connection.Database}', and this role may not create it ({e.MessageText}). " +
                "Install pgvector 0.8 on the server and run `CREATE EXTENSION vector;` in the database as a superuser (scripts/postgres.sh does both).",
                e);
        }

        await connection.ReloadTypesAsync(cancellationToken);
    }

    /// <summary>An existing table made for another model keeps its vector size: refuse to start rather than fail every insert.</summary>
    private async Task CheckDimensionsAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            $"SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = '{Schema}.chunks'::regclass AND attname = 'embedding'",
            connection);
        var type = (string?)await command.ExecuteScalarAsync(cancellationToken);
        var expected = string.Create(CultureInfo.InvariantCulture, $"vector({_dimensions})");
        if (type != expected)
        {
            throw new InvalidOperationException(
                $"{Schema}.chunks stores {type} but {KnowledgeOptions.Section}:Embedding:Dimensions is {_dimensions}. " +
                "Embeddings of another model cannot be mixed: set the dimensions of the model the documents were indexed with, " +
                $"or drop schema {Schema} to index everything again with the new model.");
        }
    }

    /// <summary>
    /// The HNSW index: cosine over half-precision copies of the vectors (the rows keep full precision, and the
    /// distances reported are computed from them). Search must order by <see cref="NearestOrder"/> to use it.
    /// </summary>
    internal static string EmbeddingIndex(int dimensions) => string.Create(
        CultureInfo.InvariantCulture,
        $"CREATE INDEX IF NOT EXISTS chunks_embedding_half ON {Schema}.chunks USING hnsw ((embedding::halfvec({dimensions})) halfvec_cosine_ops) WITH (m = 16, ef_construction = 64);");

    /// <summary>The ORDER BY expression <see cref="EmbeddingIndex"/> serves, for a query vector in parameter <c>@vector</c>.</summary>
    internal static string NearestOrder(int dimensions) => string.Create(
        CultureInfo.InvariantCulture, $"embedding::halfvec({dimensions}) <=> @vector::halfvec({dimensions})");

    private static string Ddl(int dimensions, bool lz4) => $"""
        CREATE SCHEMA IF NOT EXISTS {Schema};

        CREATE TABLE IF NOT EXISTS {Schema}.collections (
            id uuid PRIMARY KEY,
            owner_id text NOT NULL,
            kind text NOT NULL CHECK (kind IN ('Session', 'Library')),
            session_id uuid UNIQUE,
            name text NOT NULL,
            description text,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL,
            CHECK ((kind = 'Session') = (session_id IS NOT NULL))
        );
        CREATE INDEX IF NOT EXISTS collections_owner ON {Schema}.collections (owner_id, kind);

        CREATE TABLE IF NOT EXISTS {Schema}.attachments (
            collection_id uuid NOT NULL REFERENCES {Schema}.collections ON DELETE CASCADE,
            owner_id text NOT NULL,
            target text NOT NULL CHECK (target IN ('Team', 'Session')),
            target_id uuid NOT NULL,
            PRIMARY KEY (collection_id, target, target_id)
        );
        CREATE INDEX IF NOT EXISTS attachments_target ON {Schema}.attachments (owner_id, target, target_id);

        CREATE TABLE IF NOT EXISTS {Schema}.documents (
            id uuid PRIMARY KEY,
            collection_id uuid NOT NULL REFERENCES {Schema}.collections ON DELETE CASCADE,
            owner_id text NOT NULL,
            name text NOT NULL,
            kind text,
            size_bytes bigint NOT NULL,
            sha256 bytea NOT NULL,
            version int NOT NULL,
            live_version int,
            state text NOT NULL,
            chunks_embedded int NOT NULL DEFAULT 0,
            chunks_total int NOT NULL DEFAULT 0,
            pages int,
            failure text,
            attempts int NOT NULL DEFAULT 0,
            lease_node text,
            heartbeat_at timestamptz,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL,
            UNIQUE (collection_id, name)
        );
        CREATE INDEX IF NOT EXISTS documents_owner_sha ON {Schema}.documents (owner_id, sha256);
        CREATE INDEX IF NOT EXISTS documents_in_progress ON {Schema}.documents (heartbeat_at) WHERE state IN ('Extracting', 'Embedding');

        -- The immutable stored copy each version is indexed from.
        CREATE TABLE IF NOT EXISTS {Schema}.sources (
            document_id uuid NOT NULL REFERENCES {Schema}.documents ON DELETE CASCADE,
            version int NOT NULL,
            sha256 bytea NOT NULL,
            content bytea NOT NULL,
            PRIMARY KEY (document_id, version)
        );

        -- Chunks of a version being indexed: embedded and kept across restarts, never searched.
        CREATE TABLE IF NOT EXISTS {Schema}.pending_chunks (
            document_id uuid NOT NULL REFERENCES {Schema}.documents ON DELETE CASCADE,
            version int NOT NULL,
            ordinal int NOT NULL,
            page int,
            heading text,
            body text NOT NULL,
            overlap int NOT NULL,
            embedding vector({dimensions}) NOT NULL,
            PRIMARY KEY (document_id, version, ordinal)
        );

        -- What search reads: only whole versions, moved here in one transaction.
        CREATE TABLE IF NOT EXISTS {Schema}.chunks (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            document_id uuid NOT NULL REFERENCES {Schema}.documents ON DELETE CASCADE,
            owner_id text NOT NULL,
            collection_id uuid NOT NULL,
            ordinal int NOT NULL,
            page int,
            heading text,
            body text NOT NULL,
            overlap int NOT NULL,
            embedding vector({dimensions}) NOT NULL,
            search tsvector GENERATED ALWAYS AS (
                setweight(to_tsvector('english', coalesce(heading, '')), 'A') || to_tsvector('english', body)) STORED,
            UNIQUE (document_id, ordinal)
        );
        -- Vectors stay in the row (not TOAST): every distance computed reads one.
        ALTER TABLE {Schema}.chunks ALTER COLUMN embedding SET STORAGE PLAIN;
        -- Full text ranks each match by reading its tsvector: kept in the row, compressed (LZ4 where the server
        -- has it, faster to read back), rather than out of line. Rows written before keep their old form.
        ALTER TABLE {Schema}.chunks ALTER COLUMN search SET STORAGE MAIN;
        {(lz4 ? $"ALTER TABLE {Schema}.chunks ALTER COLUMN search SET COMPRESSION lz4;" : "")}
        -- The graph holds half-precision copies (half the pages to read per search); replaces the float index of before.
        DROP INDEX IF EXISTS {Schema}.chunks_embedding;
        {EmbeddingIndex(dimensions)}
        CREATE INDEX IF NOT EXISTS chunks_search ON {Schema}.chunks USING gin (search);
        -- A collection's own rows: the planner ranks a small collection (a session's few documents among many
        -- others') exactly from these instead of scanning the table or walking the graph through others' chunks.
        CREATE INDEX IF NOT EXISTS chunks_collection ON {Schema}.chunks (collection_id);

        -- The full-text query of a question: its words' lexemes OR'ed, less the common ones (CommonTerms) unless
        -- every one is common; null when it has none. One expression of its arguments (a stripped tsvector prints
        -- as 'a' 'b', quoted as a tsquery quotes): inlined and folded when a search is planned, so the plan is
        -- made with the query itself (the planner sees how rare its words are; computed in the statement instead,
        -- the planner guessed and a search took up to four times as long).
        CREATE OR REPLACE FUNCTION {Schema}.search_query(words text, common text[]) RETURNS tsquery
        LANGUAGE sql IMMUTABLE PARALLEL SAFE
        RETURN nullif(replace(strip(coalesce(
            nullif(ts_delete(to_tsvector('english', words), common), ''::tsvector),
            to_tsvector('english', words)))::text, ''' ''', ''' | '''), '')::tsquery;
        -- Searches filter by owner and collection on the rows the HNSW and GIN indexes find. An index on those
        -- columns only tempted the planner into ANDing a bitmap of every one of the owner's chunks into the
        -- full-text scan (6 ms of a 9 ms search for an owner of 90,000 chunks); nothing else reads by them.
        DROP INDEX IF EXISTS {Schema}.chunks_owner_collection;
        """;
}

/// <summary>Creates the schema when the Host starts, so a wrong vector size stops the start-up with a clear message.</summary>
internal sealed class KnowledgeSchemaInitializer(KnowledgeDatabase database) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => database.EnsureSchemaAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
