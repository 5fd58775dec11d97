using System.Diagnostics;
using Conclave.Deployment.Tests.Fixtures;
using Conclave.Testing;
using Npgsql;

namespace Conclave.Deployment.Tests.Image;

/// <summary>The image on an outside PostgreSQL (the test cluster, a fresh database): no embedded one starts.</summary>
[Collection(ImageCollection.Name)]
public sealed class OutsideDatabaseTests(ConclaveImage image, ITestOutputHelper output) : IAsyncLifetime
{
    private readonly PostgresFixture _postgres = new();
    private ScriptedOpenAiServer _provider = null!;

    public async Task InitializeAsync()
    {
        await _postgres.InitializeAsync();
        _provider = await ScriptedOpenAiServer.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _provider.DisposeAsync();
        await _postgres.DisposeAsync();
    }

    [Fact]
    public async Task A_container_on_an_outside_database_keeps_everything_there_and_runs_python()
    {
        var database = await _postgres.CreateDatabaseAsync("image");
        var started = Stopwatch.GetTimestamp();
        await using var container = await ConclaveContainer.RunAsync(image, new ContainerOptions
        {
            ProviderBaseUrl = _provider.BaseUrl,
            ConnectionString = database,
        });
        var (_, ready) = await container.WaitReadyAsync(started, TimeSpan.FromMinutes(4));

        var logs = await container.LogsAsync();
        Assert.Contains("ConnectionStrings__Conclave is set", logs);
        Assert.Contains("Password=***", logs);
        Assert.DoesNotContain("starting the embedded PostgreSQL", logs);
        using var user = new BrowserUser(container.BaseAddress);
        await user.RegisterAsync("outside");
        var session = await user.CreateSessionAsync("outside database");
        _provider.Enqueue(Reply.ToolCall("run_python", """{"code": "print(sum(range(10)))"}"""), Reply.Text("45."));
        var posted = await user.PostMessageAsync(session.Id, "Sum 0..9 in Python.");
        Assert.Equal("RunCompleted", await user.WaitForRunEndAsync(session.Id, posted.RunId, TimeSpan.FromMinutes(3)));
        Assert.Contains("45", (await user.EventsAsync(session.Id)).Single(e => e.Type == "ToolCallCompleted").Data.GetProperty("output").GetString());

        // The session and the account are in that database.
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var users = new NpgsqlCommand("""select count(*) from identity."AspNetUsers" where "UserName" = 'outside'""", connection);
        Assert.Equal(1L, await users.ExecuteScalarAsync());

        Figures.Print(output, "The Conclave image (outside PostgreSQL)",
            ("cold start to /health/ready, new database", Figures.Seconds(ready), $"< {Figures.ColdStartTargetSeconds} s", ready.TotalSeconds < Figures.ColdStartTargetSeconds));
    }
}
