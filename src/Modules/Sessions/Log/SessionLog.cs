using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using Conclave.Sessions.Contracts;
using Marten;

namespace Conclave.Sessions.Log;

/// <summary>
/// Reads of session streams. Nothing here loads a stream whole in one go: catch-up and replay go
/// page by page (<see cref="PageEvents"/> events, at most about <see cref="PageChars"/> characters of
/// stored JSON each), and questions about one run read only that run's lifecycle events.
/// </summary>
internal sealed class SessionLog(IDocumentStore store, SessionStream stream) : ISessionLog
{
    /// <summary>Events per page of a catch-up or replay.</summary>
    internal const int PageEvents = 500;

    /// <summary>Stored JSON characters after which a page ends early (events with long texts make short pages).</summary>
    internal const int PageChars = 4 * 1024 * 1024;

    private static readonly JsonSerializerOptions StoredJson = new()
    {
        PropertyNameCaseInsensitive = true,
        Converters = { new JsonStringEnumConverter() },
    };

    private static readonly string PageSql =
        $"select version, type, data from {SessionsModule.Schema}.mt_events " +
        "where stream_id = $1 and version > $2 order by version limit $3";

    private static readonly string RunLifecycleSql =
        $"select version, type, data from {SessionsModule.Schema}.mt_events " +
        "where stream_id = $1 and type = any($2) and data ->> 'RunId' = $3 order by version";

    /// <summary>
    /// Everything after <paramref name="afterVersion"/>, read page by page but returned whole: for
    /// the run orchestrator, which needs the conversation (see the bound stated where it reads it).
    /// </summary>
    public async Task<IReadOnlyList<SessionEvent>> ReadAsync(Guid sessionId, long afterVersion, CancellationToken cancellationToken)
    {
        var events = new List<SessionEvent>();
        await foreach (var e in ReadAllAsync(sessionId, afterVersion, cancellationToken))
        {
            events.Add(e);
        }

        return events;
    }

    /// <summary>Every event after <paramref name="afterVersion"/>, in order, one page in memory at a time.</summary>
    public async IAsyncEnumerable<SessionEvent> ReadAllAsync(
        Guid sessionId, long afterVersion, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        for (var after = afterVersion; ;)
        {
            var page = await ReadPageAsync(sessionId, after, PageEvents, cancellationToken);
            foreach (var e in page.Events)
            {
                yield return e;
            }

            if (!page.HasMore)
            {
                yield break;
            }

            after = page.Events[^1].Version;
        }
    }

    /// <summary>
    /// At most <paramref name="maxEvents"/> events after <paramref name="afterVersion"/>, in order, fewer
    /// when they pass <see cref="PageChars"/> (never none while there are more). Reads with one plain
    /// query and deserialises each event's JSON straight into its contract type: a catch-up of 10,000
    /// events is an order of magnitude faster than through the full event-store pipeline, and replay
    /// speed is what a reconnecting client waits on.
    /// </summary>
    public async Task<LogPage> ReadPageAsync(Guid sessionId, long afterVersion, int maxEvents, CancellationToken cancellationToken)
    {
        var events = new List<SessionEvent>();
        var hasMore = false;
        long chars = 0;
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(cancellationToken);
        await using var command = new Npgsql.NpgsqlCommand(PageSql, connection)
        {
            Parameters = { new() { Value = sessionId }, new() { Value = afterVersion }, new() { Value = (long)maxEvents + 1 } },
        };
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            if (events.Count == maxEvents || chars >= PageChars)
            {
                hasMore = true;
                break;
            }

            var json = reader.GetString(2);
            chars += json.Length;
            events.Add(Deserialize(sessionId, reader.GetInt64(0), reader.GetString(1), json));
        }

        return new LogPage(events, hasMore);
    }

    private static readonly string LastSql =
        $"select version, type, data from {SessionsModule.Schema}.mt_events where stream_id = $1 order by version desc limit 1";

    /// <summary>The session's newest event, or null for a session with none (or none any more).</summary>
    public async Task<SessionEvent?> ReadLastAsync(Guid sessionId, CancellationToken cancellationToken)
    {
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(cancellationToken);
        await using var command = new Npgsql.NpgsqlCommand(LastSql, connection) { Parameters = { new() { Value = sessionId } } };
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? Deserialize(sessionId, reader.GetInt64(0), reader.GetString(1), reader.GetString(2))
            : null;
    }

    /// <summary>The lifecycle events of one run (queued, started, paused, ended...): what its status is read from, never the whole stream.</summary>
    public async Task<IReadOnlyList<SessionEvent>> ReadRunLifecycleAsync(Guid sessionId, Guid runId, CancellationToken cancellationToken)
    {
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(cancellationToken);
        await using var command = new Npgsql.NpgsqlCommand(RunLifecycleSql, connection)
        {
            Parameters = { new() { Value = sessionId }, new() { Value = SessionEventTypes.RunLifecycle }, new() { Value = runId.ToString() } },
        };
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var events = new List<SessionEvent>();
        while (await reader.ReadAsync(cancellationToken))
        {
            events.Add(Deserialize(sessionId, reader.GetInt64(0), reader.GetString(1), reader.GetString(2)));
        }

        return events;
    }

    public async Task<long> AppendAsync(Guid sessionId, IReadOnlyList<object> events, CancellationToken cancellationToken)
    {
        var committed = await stream.AppendAsync(sessionId, Decision.Append(events), cancellationToken);
        return committed.Count == 0 ? 0 : committed[^1].Version;
    }

    public async Task<long> AppendToRunAsync(Guid sessionId, Guid runId, IReadOnlyList<object> events, CancellationToken cancellationToken)
    {
        var decision = Decision.Append(events);
        // An approval asked for is denied when it expires unanswered: the reminder commits with the request.
        foreach (var asked in events.OfType<ToolApprovalRequested>())
        {
            decision = decision.SendAt(new ApprovalExpired(sessionId, runId, asked.CallId), asked.ExpiresAt);
        }

        var committed = await stream.AppendAsync(sessionId, decision, cancellationToken, whileRunActive: runId);
        return committed.Count == 0 ? 0 : committed[^1].Version;
    }

    /// <summary>One stored event, read into its contract type by its stored type name.</summary>
    internal static SessionEvent Deserialize(Guid sessionId, long version, string name, string json)
    {
        if (!SessionEventTypes.ByName.TryGetValue(name, out var type))
        {
            throw new InvalidOperationException($"Session {sessionId} holds an event of unknown type '{name}' at version {version}.");
        }

        var data = JsonSerializer.Deserialize(json, type, StoredJson)!;
        return new SessionEvent(version, name, ((ITimelineEvent)data).At, data);
    }
}

/// <summary>A page of a session's events; <see cref="HasMore"/> when the stream goes on after it.</summary>
internal sealed record LogPage(IReadOnlyList<SessionEvent> Events, bool HasMore);
