using System.Text.Json;
using System.Text.Json.Serialization;
using Conclave.Sessions.Contracts;
using Marten;

namespace Conclave.Sessions.Log;

internal sealed class SessionLog(IDocumentStore store, SessionStream stream) : ISessionLog
{
    private static readonly JsonSerializerOptions StoredJson = new()
    {
        PropertyNameCaseInsensitive = true,
        Converters = { new JsonStringEnumConverter() },
    };

    private static readonly string ReadSql =
        $"select version, type, data from {SessionsModule.Schema}.mt_events " +
        "where stream_id = $1 and version > $2 order by version limit $3";

    /// <summary>
    /// Reads with one plain query and deserialises each event's JSON straight into its contract
    /// type: a catch-up of 10,000 events is an order of magnitude faster than through the full
    /// event-store pipeline, and replay speed is what a reconnecting client waits on.
    /// </summary>
    public Task<IReadOnlyList<SessionEvent>> ReadAsync(Guid sessionId, long afterVersion, CancellationToken cancellationToken) =>
        ReadAsync(sessionId, afterVersion, limit: long.MaxValue, cancellationToken);

    /// <summary>At most <paramref name="limit"/> events after <paramref name="afterVersion"/>, in order.</summary>
    public async Task<IReadOnlyList<SessionEvent>> ReadAsync(Guid sessionId, long afterVersion, long limit, CancellationToken cancellationToken)
    {
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(cancellationToken);
        await using var command = new Npgsql.NpgsqlCommand(ReadSql, connection)
        {
            Parameters = { new() { Value = sessionId }, new() { Value = afterVersion }, new() { Value = limit } },
        };
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var events = new List<SessionEvent>();
        while (await reader.ReadAsync(cancellationToken))
        {
            var version = reader.GetInt64(0);
            var name = reader.GetString(1);
            if (!SessionEventTypes.ByName.TryGetValue(name, out var type))
            {
                throw new InvalidOperationException($"Session {sessionId} holds an event of unknown type '{name}' at version {version}.");
            }

            var data = JsonSerializer.Deserialize(reader.GetString(2), type, StoredJson)!;
            events.Add(new SessionEvent(version, name, ((ITimelineEvent)data).At, data));
        }

        return events;
    }

    public async Task<long> AppendAsync(Guid sessionId, IReadOnlyList<object> events, CancellationToken cancellationToken)
    {
        var committed = await stream.AppendAsync(sessionId, events, cancellationToken);
        return committed.Count == 0 ? 0 : committed[^1].Version;
    }

    public async Task<long> AppendToRunAsync(Guid sessionId, Guid runId, IReadOnlyList<object> events, CancellationToken cancellationToken)
    {
        var committed = await stream.AppendAsync(sessionId, events, cancellationToken, whileRunActive: runId);
        return committed.Count == 0 ? 0 : committed[^1].Version;
    }
}
