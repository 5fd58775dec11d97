using System.Text.Json;
using Conclave.Sessions.Contracts;
using Conclave.Testing.Host;
using Marten;
using Npgsql;

namespace Conclave.Host.Tests.Sessions;

/// <summary>
/// Events written before issue 10 (StoredEvents.json: rows captured from the store, shared with the
/// Sessions unit tests) are put into a session's stream as raw rows, then read back through every
/// path the product reads: the log, the live feed and Marten's own event store.
/// </summary>
[Collection(SharedHost.Name)]
public sealed class StoredEventsTests(ConclaveApp app)
{
    private static readonly Guid RunId = new("0199aaaa-0000-7000-8000-000000000001");

    [Fact]
    public async Task Events_stored_before_the_run_vocabulary_still_load_everywhere()
    {
        var session = await app.CreateSessionAsync("stored before");
        var rows = await InsertOldRowsAsync(session.Id);

        var logged = await app.EventsAsync(session.Id);
        await using var query = app.Service<IDocumentStore>().QuerySession();
        var marten = await query.Events.FetchStreamAsync(session.Id);
        var fed = new List<SessionEvent>();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await foreach (var item in app.Service<ISessionFeed>().SubscribeAsync(session.Id, 0, deadline.Token))
        {
            fed.Add(((FeedEvent)item).Event);
            if (fed.Count == rows.Count + 1)
            {
                break;
            }
        }

        string[] expected = ["SessionStarted", .. rows];
        Assert.Equal(expected, logged.Select(e => e.Data.GetType().Name));
        Assert.Equal(expected, marten.Select(e => e.Data.GetType().Name));
        Assert.Equal(expected, fed.Select(e => e.Data.GetType().Name));
        Assert.Equal(logged.Select(e => e.Data), marten.Select(e => e.Data), new SameJson());
        Assert.Equal(RunStatus.Completed, RunHistory.StatusOf(logged, RunId));
        Assert.Equal(3, logged.Count(e => e.Data is IRunEnded));
    }

    /// <summary>Appends the stored rows after the session's start, as raw rows, and moves the stream's version on.</summary>
    private async Task<IReadOnlyList<string>> InsertOldRowsAsync(Guid sessionId)
    {
        using var document = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Sessions", "StoredEvents.json")));
        var rows = document.RootElement.EnumerateArray().Where(r => r.GetProperty("type").GetString() != "SessionStarted").ToList();
        await using var connection = new NpgsqlConnection(app.ConnectionString);
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var version = 1L;
        foreach (var row in rows)
        {
            await using var insert = new NpgsqlCommand(
                "insert into sessions.mt_events (seq_id, id, stream_id, version, data, type, mt_dotnet_type) " +
                "values (nextval('sessions.mt_events_sequence'), gen_random_uuid(), $1, $2, $3::jsonb, $4, $5)",
                connection,
                transaction)
            {
                Parameters =
                {
                    new() { Value = sessionId },
                    new() { Value = ++version },
                    new() { Value = row.GetProperty("data").GetRawText() },
                    new() { Value = row.GetProperty("type").GetString()! },
                    new() { Value = row.GetProperty("dotnet").GetString()! },
                },
            };
            await insert.ExecuteNonQueryAsync();
        }

        await using var stream = new NpgsqlCommand("update sessions.mt_streams set version = $2 where id = $1", connection, transaction)
        {
            Parameters = { new() { Value = sessionId }, new() { Value = version } },
        };
        Assert.Equal(1, await stream.ExecuteNonQueryAsync());
        await transaction.CommitAsync();
        return rows.Select(r => r.GetProperty("type").GetString()!).ToList();
    }

    private sealed class SameJson : IEqualityComparer<object>
    {
        public new bool Equals(object? x, object? y) => JsonSerializer.Serialize(x) == JsonSerializer.Serialize(y);

        public int GetHashCode(object obj) => 0;
    }
}
