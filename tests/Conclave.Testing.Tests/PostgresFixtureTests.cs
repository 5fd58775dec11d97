using Npgsql;
using Xunit;

namespace Conclave.Testing.Tests;

public sealed class PostgresFixtureTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    [Fact]
    public async Task Each_call_creates_a_fresh_database_one_can_connect_to()
    {
        var first = await postgres.CreateDatabaseAsync("fixture");
        var second = await postgres.CreateDatabaseAsync("fixture");

        var names = (await CurrentDatabaseAsync(first), await CurrentDatabaseAsync(second));

        Assert.NotEqual(names.Item1, names.Item2);
        Assert.Matches("^t_fixture_[0-9a-f]{8}$", names.Item1);
    }

    [Fact]
    public async Task Prefixes_are_sanitised_into_valid_names()
    {
        var connectionString = await postgres.CreateDatabaseAsync("My Module/Tests!");

        Assert.Matches("^t_my_module_tests__[0-9a-f]{8}$", await CurrentDatabaseAsync(connectionString));
    }

    [Fact]
    public async Task Disposing_a_fixture_drops_its_databases()
    {
        var fixture = new PostgresFixture();
        await fixture.InitializeAsync();
        var name = new NpgsqlConnectionStringBuilder(await fixture.CreateDatabaseAsync("dropped")).Database;

        await fixture.DisposeAsync();

        await using var server = new NpgsqlConnection(postgres.ServerConnectionString);
        await server.OpenAsync();
        await using var exists = new NpgsqlCommand("SELECT count(*) FROM pg_database WHERE datname = @name", server);
        exists.Parameters.AddWithValue("name", name!);
        Assert.Equal(0L, await exists.ExecuteScalarAsync());
    }

    private static async Task<string> CurrentDatabaseAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT current_database()", connection);
        return (string)(await command.ExecuteScalarAsync())!;
    }
}
