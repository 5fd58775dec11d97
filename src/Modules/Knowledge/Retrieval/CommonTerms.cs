using Conclave.Knowledge.Storage;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Conclave.Knowledge.Retrieval;

/// <summary>
/// Lexemes found in more than <c>CommonTermFrequency</c> of all chunks, from the statistics ANALYZE
/// (autovacuum) keeps on <c>knowledge.chunks.search</c>: a stop list that follows the corpus. Read at
/// most every few minutes; empty until the table has been analysed.
/// </summary>
internal sealed class CommonTerms(KnowledgeDatabase database, TimeProvider clock, IOptions<KnowledgeOptions> options) : IDisposable
{
    private static readonly TimeSpan Refresh = TimeSpan.FromMinutes(5);
    private readonly SemaphoreSlim _reading = new(1, 1);
    private string[] _terms = [];
    private DateTimeOffset _readAt = DateTimeOffset.MinValue;

    public async Task<string[]> GetAsync(CancellationToken cancellationToken)
    {
        if (clock.GetUtcNow() - _readAt < Refresh)
        {
            return _terms;
        }

        await _reading.WaitAsync(cancellationToken);
        try
        {
            if (clock.GetUtcNow() - _readAt >= Refresh)
            {
                _terms = await ReadAsync(cancellationToken);
                _readAt = clock.GetUtcNow();
            }

            return _terms;
        }
        finally
        {
            _reading.Release();
        }
    }

    private async Task<string[]> ReadAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            """
            SELECT coalesce(array_agg(e.lexeme), '{}') FROM pg_stats s,
                unnest(s.most_common_elems::text::text[], s.most_common_elem_freqs) AS e(lexeme, frequency)
            WHERE s.schemaname = 'knowledge' AND s.tablename = 'chunks' AND s.attname = 'search' AND e.frequency > @frequency
              AND e.lexeme IS NOT NULL
            """,
            connection);
        command.Parameters.AddWithValue("frequency", (float)options.Value.Search.CommonTermFrequency);
        // A null in the list would make "lexeme <> ALL(list)" null for every word.
        return ((string?[])(await command.ExecuteScalarAsync(cancellationToken))!).OfType<string>().ToArray();
    }

    public void Dispose() => _reading.Dispose();
}
