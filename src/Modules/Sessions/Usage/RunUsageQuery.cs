using Conclave.Sessions.Contracts;
using Marten;

namespace Conclave.Sessions.Usage;

/// <summary>
/// Usage summed from the runs' read models since a time, per owner, in one plain query. Plain SQL
/// on purpose: the timestamp is compared as a timestamp, whatever form the JSON holds it in.
/// </summary>
internal static class RunUsageQuery
{
    private static readonly string Sql =
        $"select data ->> 'OwnerId', count(*), coalesce(sum((data ->> 'PromptTokens')::bigint), 0), " +
        "coalesce(sum((data ->> 'CompletionTokens')::bigint), 0), coalesce(sum((data ->> 'Cost')::numeric), 0), " +
        "coalesce(sum((data ->> 'UnpricedCalls')::int), 0) " +
        $"from {SessionsModule.Schema}.mt_doc_runsummary " +
        "where (data ->> 'QueuedAt')::timestamptz >= $1 and ($2::text is null or data ->> 'OwnerId' = $2) " +
        "group by data ->> 'OwnerId'";

    public static async Task<IReadOnlyDictionary<string, UsageTotals>> SinceAsync(
        IDocumentStore store, DateTimeOffset since, string? ownerId, CancellationToken cancellationToken)
    {
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(cancellationToken);
        await using var command = new Npgsql.NpgsqlCommand(Sql, connection)
        {
            Parameters =
            {
                new() { Value = since },
                new() { Value = (object?)ownerId ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text },
            },
        };
        var totals = new Dictionary<string, UsageTotals>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            totals[reader.GetString(0)] = new UsageTotals(
                (int)reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetDecimal(4), (int)reader.GetInt64(5));
        }

        return totals;
    }

    public static async Task<UsageTotals> OfAsync(IDocumentStore store, string ownerId, DateTimeOffset since, CancellationToken cancellationToken) =>
        (await SinceAsync(store, since, ownerId, cancellationToken)).GetValueOrDefault(ownerId) ?? new UsageTotals(0, 0, 0, 0, 0);
}
