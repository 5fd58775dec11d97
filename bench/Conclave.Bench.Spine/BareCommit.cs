using Npgsql;

namespace Conclave.Bench.Spine;

/// <summary>
/// The floor under an append: one row inserted and committed on the same PostgreSQL (two round trips
/// and a synchronous commit), timed beside the appends so both meet the same machine.
/// </summary>
internal sealed class BareCommit : IAsyncDisposable
{
    private readonly NpgsqlDataSource _database;

    private BareCommit(NpgsqlDataSource database) => _database = database;

    public static async Task<BareCommit> CreateAsync(string connectionString)
    {
        var database = NpgsqlDataSource.Create(connectionString);
        await using var create = database.CreateCommand("create table if not exists public.bench_bare_commit (id bigserial primary key, at timestamptz not null)");
        await create.ExecuteNonQueryAsync();
        return new BareCommit(database);
    }

    public async Task InsertAsync()
    {
        await using var connection = await _database.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using var insert = new NpgsqlCommand("insert into public.bench_bare_commit (at) values (now())", connection, transaction);
        await insert.ExecuteNonQueryAsync();
        await transaction.CommitAsync();
    }

    public ValueTask DisposeAsync() => _database.DisposeAsync();
}
