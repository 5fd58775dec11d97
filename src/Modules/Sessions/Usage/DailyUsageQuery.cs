using Conclave.Sessions.Contracts;
using Marten;

namespace Conclave.Sessions.Usage;

/// <summary>
/// Usage by UTC day, team and model, in one plain query: the owner's runs (their read models, indexed by owner) joined
/// to the model calls of their sessions' streams. The runs' read models have no model, the events no owner or team.
/// </summary>
internal sealed class DailyUsageQuery(IDocumentStore store) : IUsageHistory
{
    private static readonly string[] ModelCalls = [nameof(AgentMessageCompleted), nameof(SpeakerSelected)];

    private static readonly string Sql =
        "select (e.timestamp at time zone 'UTC')::date, coalesce(r.data ->> 'Team', ''), coalesce(e.data ->> 'Model', ''), " +
        "coalesce(sum((e.data -> 'Usage' ->> 'PromptTokens')::bigint), 0), " +
        "coalesce(sum((e.data -> 'Usage' ->> 'CompletionTokens')::bigint), 0), " +
        "coalesce(sum((e.data ->> 'Cost')::numeric), 0), " +
        // UsageTally's rule: a call without a price that used tokens is an unpriced call.
        "count(*) filter (where e.data ->> 'Cost' is null " +
        "and (e.data -> 'Usage' ->> 'PromptTokens')::bigint + (e.data -> 'Usage' ->> 'CompletionTokens')::bigint > 0) " +
        $"from {SessionsModule.Schema}.mt_doc_runsummary r " +
        $"join {SessionsModule.Schema}.mt_events e on e.stream_id = (r.data ->> 'SessionId')::uuid and e.data ->> 'RunId' = r.id::text " +
        "where r.data ->> 'OwnerId' = $1 and (r.data ->> 'QueuedAt')::timestamptz >= $2 and e.type = any($3) " +
        "group by 1, 2, 3 order by 1, 2, 3";

    public async Task<IReadOnlyList<DailyUsage>> DailyAsync(string ownerId, DateTimeOffset since, CancellationToken cancellationToken)
    {
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(cancellationToken);
        await using var command = new Npgsql.NpgsqlCommand(Sql, connection)
        {
            Parameters = { new() { Value = ownerId }, new() { Value = since }, new() { Value = ModelCalls } },
        };
        var days = new List<DailyUsage>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            days.Add(new DailyUsage(
                DateOnly.FromDateTime(reader.GetDateTime(0)), reader.GetString(1), reader.GetString(2),
                reader.GetInt64(3), reader.GetInt64(4), reader.GetDecimal(5), (int)reader.GetInt64(6)));
        }

        return days;
    }
}
