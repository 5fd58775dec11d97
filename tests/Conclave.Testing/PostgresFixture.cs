using System.Collections.Concurrent;
using System.Text;
using DotNet.Testcontainers.Configurations;
using Npgsql;
using Testcontainers.PostgreSql;
using Xunit;

namespace Conclave.Testing;

/// <summary>
/// Gives each test class fresh PostgreSQL databases on one server per test process: the server named by
/// <c>ConnectionStrings__Conclave</c> (./test.sh and CI start a local cluster and set it), or else a
/// Testcontainers <c>pgvector/pgvector:pg15</c> container when a Docker engine is reachable.
/// Use as an xunit class or collection fixture; instances are cheap and drop their databases on dispose.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    public const string ConnectionStringVariable = "ConnectionStrings__Conclave";
    private const string ContainerImage = "pgvector/pgvector:pg15";

    // One server per process; a container started here is removed by Testcontainers' resource reaper.
    private static readonly Lazy<Task<string>> Server = new(FindOrStartServerAsync);

    private readonly ConcurrentBag<string> _databases = [];
    private string? _serverConnectionString;

    /// <summary>Connection string of the server's maintenance database; available after <see cref="InitializeAsync"/>.</summary>
    public string ServerConnectionString => _serverConnectionString
        ?? throw new InvalidOperationException(
            "PostgresFixture is not initialised: await InitializeAsync() first (xunit does it for fixtures).");

    public async Task InitializeAsync() => _serverConnectionString = await Server.Value;

    /// <summary>
    /// Creates a new database named <c>t_{prefix}_{8 hex}</c>, with the pgvector extension when the server
    /// has it, and returns its connection string.
    /// </summary>
    public async Task<string> CreateDatabaseAsync(string prefix, CancellationToken cancellationToken = default)
    {
        var name = DatabaseName(prefix);
        await using (var server = new NpgsqlConnection(ServerConnectionString))
        {
            await server.OpenAsync(cancellationToken);
            await ExecuteAsync(server, $"CREATE DATABASE \"{name}\"", cancellationToken);
        }

        _databases.Add(name);
        var connectionString = new NpgsqlConnectionStringBuilder(ServerConnectionString) { Database = name }.ConnectionString;
        await TryCreateVectorExtensionAsync(connectionString, cancellationToken);
        return connectionString;
    }

    public async Task DisposeAsync()
    {
        if (_serverConnectionString is null || _databases.IsEmpty)
        {
            return;
        }

        // For looking into what a test or bench left behind: CONCLAVE_KEEP_DATABASES=1 keeps them (drop by hand).
        if (Environment.GetEnvironmentVariable("CONCLAVE_KEEP_DATABASES") == "1")
        {
            Console.Error.WriteLine($"CONCLAVE_KEEP_DATABASES=1: kept {string.Join(", ", _databases)}");
            _databases.Clear();
            return;
        }

        await using var server = new NpgsqlConnection(_serverConnectionString);
        await server.OpenAsync();
        // FORCE ends connections a test host may still hold in its pool.
        foreach (var name in _databases)
        {
            await DropAsync(server, name);
        }

        _databases.Clear();
    }

    /// <summary>
    /// PostgreSQL 15 refuses FORCE (42501) while an autovacuum worker, which a non-superuser may not
    /// terminate, is busy in the database; the worker finishes within moments, so try again.
    /// </summary>
    private static Task DropAsync(NpgsqlConnection server, string name) =>
        Eventually.Until(
            async () =>
            {
                try
                {
                    await ExecuteAsync(server, $"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", CancellationToken.None);
                    return true;
                }
                catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
                {
                    return false;
                }
            },
            TimeSpan.FromSeconds(30),
            $"database {name} can be dropped once autovacuum leaves it");

    internal static string DatabaseName(string prefix)
    {
        var sanitised = new StringBuilder();
        foreach (var c in prefix.ToLowerInvariant())
        {
            sanitised.Append(c is >= 'a' and <= 'z' or >= '0' and <= '9' ? c : '_');
        }

        // PostgreSQL truncates identifiers to 63 bytes; "t_" + prefix + "_" + 8 hex must fit.
        var trimmed = sanitised.ToString(0, Math.Min(sanitised.Length, 63 - 11));
        return $"t_{trimmed}_{Guid.NewGuid().ToString("N")[..8]}";
    }

    private static async Task<string> FindOrStartServerAsync()
    {
        var configured = Environment.GetEnvironmentVariable(ConnectionStringVariable);
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return configured;
        }

        if (TestcontainersSettings.OS.DockerEndpointAuthConfig is null)
        {
            throw new InvalidOperationException(
                $"No PostgreSQL for tests: {ConnectionStringVariable} is not set and no Docker engine is reachable. " +
                $"Run the tests with ./test.sh (it starts a local cluster and sets {ConnectionStringVariable}), " +
                "or set it yourself, e.g. `eval \"$(scripts/postgres.sh env)\"` after `scripts/postgres.sh start`.");
        }

        var container = new PostgreSqlBuilder(ContainerImage).Build();
        await container.StartAsync();
        return container.GetConnectionString();
    }

    private static async Task TryCreateVectorExtensionAsync(string connectionString, CancellationToken cancellationToken)
    {
        await using var database = new NpgsqlConnection(connectionString);
        await database.OpenAsync(cancellationToken);
        try
        {
            await ExecuteAsync(database, "CREATE EXTENSION IF NOT EXISTS vector", cancellationToken);
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.UndefinedFile
                                               or PostgresErrorCodes.FeatureNotSupported
                                               or PostgresErrorCodes.InsufficientPrivilege)
        {
            // pgvector is not installed on this server; tests that need it will say so themselves.
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
