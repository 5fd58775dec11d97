using Conclave.Agents.Contracts;
using Conclave.Sessions.Contracts;
using Conclave.Testing;
using Conclave.Testing.Host;
using Npgsql;

namespace Conclave.Host.Tests.Providers;

/// <summary>A user's own provider key: decrypted only for the call, sent to the provider, stored nowhere in plain text.</summary>
public sealed class StoredKeyRunTests(ConclaveApp app) : IClassFixture<ConclaveApp>
{
    private const string Key = "fake-user-own-key-for-tests-7d2b";
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task An_agent_on_the_users_provider_calls_it_with_the_users_key_at_its_prices_and_the_key_is_in_no_row()
    {
        var owner = "key-owner";
        var provider = await app.Service<IProviders>().CreateAsync(
            owner,
            new ProviderInput("My endpoint", ProviderPreset.Custom, app.Provider.BaseUrl, ["my-model"], Key, 2m, 4m),
            None);
        var team = await app.Service<ITeams>().CreateAsync(owner, new TeamDefinition
        {
            Name = "Own provider",
            Agents = [new AgentDefinition("Solo", "Answers", "You are Solo.", [], provider.Id)],
        }, None);
        var sessions = app.Service<ISessions>();
        var session = await sessions.CreateAsync(owner, "own key", None);
        await sessions.ChooseTeamAsync(owner, session.Id, team.Id, team.Name, None);
        var first = app.Provider.Requests.Count;
        app.Provider.Enqueue(Reply.Text("Hello from your model.").WithUsage(1000, 500));

        var posted = await sessions.PostMessageAsync(owner, session.Id, "hi", None);
        var end = await app.WaitForRunEndAsync(session.Id, posted.RunId);

        Assert.IsType<RunCompleted>(end.Data);
        var request = app.Provider.Requests[first];
        Assert.Equal($"Bearer {Key}", request.Authorization);
        Assert.Equal("my-model", request.Model);
        var message = (await app.EventsAsync(session.Id)).Select(e => e.Data).OfType<AgentMessageCompleted>().Single();
        Assert.Equal(0.004m, message.Cost); // 1000 x $2/M + 500 x $4/M
        Assert.Equal("My endpoint", message.Provider);

        // No table of any schema holds the key in plain text.
        await using var connection = new NpgsqlConnection(app.ConnectionString);
        await connection.OpenAsync();
        await using var tables = new NpgsqlCommand(
            "select table_schema, table_name from information_schema.tables where table_schema not in ('pg_catalog', 'information_schema') and table_type = 'BASE TABLE'",
            connection);
        var names = new List<string>();
        await using (var reader = await tables.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                names.Add($"\"{reader.GetString(0)}\".\"{reader.GetString(1)}\"");
            }
        }

        Assert.Contains(names, n => n.Contains("mt_doc_provider"));
        foreach (var table in names)
        {
            await using var search = new NpgsqlCommand($"select count(*) from {table} t where t::text like '%' || $1 || '%'", connection)
            {
                Parameters = { new() { Value = Key } },
            };
            Assert.True((long)(await search.ExecuteScalarAsync())! == 0, $"{table} holds the key in plain text");
        }
    }
}
