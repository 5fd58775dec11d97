using System.Globalization;
using System.Text.RegularExpressions;
using Conclave.Knowledge.Contracts;
using Conclave.Knowledge.Embedding;
using Conclave.Knowledge.Storage;
using Conclave.Knowledge.Telemetry;
using Microsoft.Extensions.Options;
using Npgsql;
using Pgvector;

namespace Conclave.Knowledge.Retrieval;

/// <summary>
/// One chunk found by either list, with its rank in each (null: not in that list). The lists carry no text:
/// the document's name and the chunk's text (<see cref="ChunkText"/>) are read afterwards for the few
/// candidates that become passages.
/// </summary>
internal sealed record Candidate(
    long Id, Guid DocumentId, Guid CollectionId, int Ordinal, int? Page, string? Heading, int Overlap,
    int? VectorRank, double? Distance, int? TextRank, double? TextScore);

/// <summary>What a passage shows of a chunk: its document's name and its text.</summary>
internal sealed record ChunkText(string DocumentName, string Body);

/// <summary>
/// Vector search (HNSW, cosine) and full-text search (GIN, tsvector) over the owner's chunks in the
/// given collections, two SQL statements run at once; the lists are fused by reciprocal rank and adjacent
/// chunks merged. The owner and collection filter is in the SQL of both lists. Fusion is weighted
/// (RrfK, TextWeight; ADR 0011 says how the defaults were chosen). The lists return ids, places and
/// scores only; the texts of the chunks that make the passages are read by id afterwards (reading every
/// candidate's text, most of them TOASTed, cost more than either list).
/// </summary>
internal sealed partial class HybridSearch(
    KnowledgeDatabase database, KnowledgeEmbedder embedder, CommonTerms commonTerms, KnowledgeMetrics metrics, IOptions<KnowledgeOptions> options) : IKnowledgeSearch
{
    public const int MaxTopK = 50;
    public const int MaxCollections = 200;

    public async Task<IReadOnlyList<KnowledgeHit>> SearchAsync(KnowledgeQuery query, CancellationToken cancellationToken)
    {
        var text = Validate(query, options.Value.Search);
        if (query.CollectionIds.Count == 0)
        {
            return [];
        }

        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var vector = query.Mode == RetrievalMode.FullText ? null : await embedder.EmbedQueryAsync(text, cancellationToken);
        var hits = await FindAsync(query, text, vector, cancellationToken);
        metrics.Searched(query.Mode.ToString().ToLowerInvariant(), System.Diagnostics.Stopwatch.GetElapsedTime(started));
        return hits;
    }

    /// <summary>
    /// The SQL part (also for the benchmark): passages for an already embedded query. Both lists, fusion,
    /// then the texts of the candidates the passages need.
    /// </summary>
    internal async Task<IReadOnlyList<KnowledgeHit>> FindAsync(KnowledgeQuery query, string text, float[]? vector, CancellationToken cancellationToken)
    {
        var settings = options.Value.Search;
        var ranked = Rank(await CandidatesAsync(query, text, vector, cancellationToken), query.Mode, settings.RrfK, settings.TextWeight);
        var texts = new Dictionary<long, ChunkText?>();
        var wanted = PassageMerger.LikelyNeeded(ranked, query.TopK);
        while (true)
        {
            await ReadTextsAsync(query.OwnerId, wanted, texts, cancellationToken);
            if (PassageMerger.Merge(ranked, query.TopK, texts, out var unread) is { } hits)
            {
                return hits;
            }

            // Rare: a chunk further down merges into a passage, or near-duplicates were dropped.
            wanted = ranked.Skip(unread).Take(query.TopK * 2).Select(r => r.Candidate.Id).Where(id => !texts.ContainsKey(id)).ToList();
        }
    }

    /// <summary>
    /// Both lists' candidates for an already embedded query. The vector list and the full-text list are two
    /// statements on two connections at once, so the search takes about as long as the slower list rather
    /// than both.
    /// </summary>
    internal async Task<IReadOnlyList<Candidate>> CandidatesAsync(KnowledgeQuery query, string text, float[]? vector, CancellationToken cancellationToken)
    {
        var common = await commonTerms.GetAsync(cancellationToken);
        var lists = await Task.WhenAll(Lists(query, text, vector).Select(list => ReadAsync(query, text, vector, common, list, cancellationToken)));
        return lists.SelectMany(l => l)
            .GroupBy(c => c.Id)
            .Select(g => g.Aggregate((a, b) => a with
            {
                VectorRank = a.VectorRank ?? b.VectorRank,
                Distance = a.Distance ?? b.Distance,
                TextRank = a.TextRank ?? b.TextRank,
                TextScore = a.TextScore ?? b.TextScore,
            }))
            .ToList();
    }

    /// <summary>The plans of the SQL part with their timings (EXPLAIN ANALYZE), for the benchmark.</summary>
    internal async Task<string> ExplainAsync(KnowledgeQuery query, string text, float[]? vector, CancellationToken cancellationToken)
    {
        var common = await commonTerms.GetAsync(cancellationToken);
        var plan = new System.Text.StringBuilder();
        foreach (var list in Lists(query, text, vector))
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            await using var command = Command(connection, query, text, vector, common, list, "EXPLAIN (ANALYZE, BUFFERS) ");
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            plan.AppendLine(CultureInfo.InvariantCulture, $"-- {list} list");
            while (await reader.ReadAsync(cancellationToken))
            {
                plan.AppendLine(reader.GetString(0));
            }
        }

        return plan.ToString();
    }

    private enum List
    {
        Vector,
        Text,
    }

    private static IEnumerable<List> Lists(KnowledgeQuery query, string text, float[]? vector)
    {
        if (vector is not null)
        {
            yield return List.Vector;
        }

        if (query.Mode != RetrievalMode.Vector && Word().IsMatch(text))
        {
            yield return List.Text;
        }
    }

    private async Task<List<Candidate>> ReadAsync(KnowledgeQuery query, string text, float[]? vector, string[] common, List list, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = Command(connection, query, text, vector, common, list, "");
        var found = new List<(long Id, Guid DocumentId, Guid CollectionId, int Ordinal, int? Page, string? Heading, int Overlap, double Score)>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                found.Add((
                    reader.GetInt64(0),
                    reader.GetGuid(1),
                    reader.GetGuid(2),
                    reader.GetInt32(3),
                    reader.IsDBNull(4) ? null : reader.GetInt32(4),
                    reader.IsDBNull(5) ? null : reader.GetString(5),
                    reader.GetInt32(6),
                    reader.GetDouble(7)));
            }
        }

        // Rank 1 is the nearest (vector) or the best text rank (full text); ties go to the older chunk.
        var ordered = list == List.Vector
            ? found.OrderBy(f => f.Score).ThenBy(f => f.Id)
            : found.OrderByDescending(f => f.Score).ThenBy(f => f.Id);
        return ordered.Select((f, i) => new Candidate(
                f.Id, f.DocumentId, f.CollectionId, f.Ordinal, f.Page, f.Heading, f.Overlap,
                list == List.Vector ? i + 1 : null,
                list == List.Vector ? f.Score : null,
                list == List.Text ? i + 1 : null,
                list == List.Text ? f.Score : null))
            .ToList();
    }

    /// <summary>
    /// Reads the texts of <paramref name="ids"/> into <paramref name="texts"/>; an id that is no longer there (its
    /// document was replaced or deleted since the lists were read) is recorded as null and left out.
    /// </summary>
    private async Task ReadTextsAsync(string ownerId, IReadOnlyCollection<long> ids, Dictionary<long, ChunkText?> texts, CancellationToken cancellationToken)
    {
        if (ids.Count == 0)
        {
            return;
        }

        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            """
            SELECT c.id, d.name, c.body FROM knowledge.chunks c JOIN knowledge.documents d ON d.id = c.document_id
            WHERE c.id = ANY(@ids) AND c.owner_id = @owner
            """,
            connection);
        command.Parameters.AddWithValue("ids", ids.ToArray());
        command.Parameters.AddWithValue("owner", ownerId);
        foreach (var id in ids)
        {
            texts[id] = null;
        }

        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            texts[reader.GetInt64(0)] = new ChunkText(reader.GetString(1), reader.GetString(2));
        }
    }

    private NpgsqlCommand Command(NpgsqlConnection connection, KnowledgeQuery query, string text, float[]? vector, string[] common, List list, string prefix)
    {
        var settings = options.Value.Search;
        var limit = Math.Max(settings.Candidates, query.TopK * 2);
        // The index finds the nearest by half-precision copies; the distance reported is the full-precision one.
        var sql = list == List.Vector
            ? $"""
                SELECT id, document_id, collection_id, ordinal, page, heading, overlap, embedding <=> @vector AS score
                FROM knowledge.chunks
                WHERE owner_id = @owner AND collection_id = ANY(@collections)
                ORDER BY {KnowledgeDatabase.NearestOrder(database.Dimensions)} LIMIT @limit
                """
            // The question's words OR'ed, less those in more than CommonTermFrequency of all chunks (a stop
            // list the corpus keeps up to date, see CommonTerms). Ranking reads each match's tsvector, so at
            // most MaxTextMatches matches are ranked.
            : """
                WITH words AS (SELECT DISTINCT unnest(tsvector_to_array(to_tsvector('english', @words))) AS lexeme),
                rare AS (SELECT lexeme FROM words WHERE lexeme <> ALL(@common)),
                q AS (SELECT string_agg(quote_literal(lexeme), ' | ')::tsquery AS query FROM (
                        SELECT lexeme FROM rare UNION ALL SELECT lexeme FROM words WHERE NOT EXISTS (SELECT 1 FROM rare)) l),
                m AS MATERIALIZED (
                    SELECT c.id, c.document_id, c.collection_id, c.ordinal, c.page, c.heading, c.overlap, c.search, q.query
                    FROM knowledge.chunks c, q
                    WHERE c.owner_id = @owner AND c.collection_id = ANY(@collections) AND c.search @@ q.query
                    LIMIT @matches)
                SELECT id, document_id, collection_id, ordinal, page, heading, overlap, ts_rank_cd(search, query)::float8 AS score
                FROM m ORDER BY score DESC, id LIMIT @limit
                """;

        // ef_search, the iterative scan, custom plans and jit are set on the module's connections (KnowledgeDatabase).
        var command = new NpgsqlCommand(prefix + sql, connection);
        command.Parameters.AddWithValue("owner", query.OwnerId);
        command.Parameters.AddWithValue("collections", query.CollectionIds.Distinct().ToArray());
        command.Parameters.AddWithValue("limit", limit);
        if (list == List.Vector)
        {
            command.Parameters.AddWithValue("vector", new Vector(vector!));
        }
        else
        {
            command.Parameters.AddWithValue("words", text);
            command.Parameters.AddWithValue("common", common);
            command.Parameters.AddWithValue("matches", settings.MaxTextMatches);
        }

        return command;
    }

    /// <summary>Candidates best first with their score: fused ranks (hybrid), similarity (vector) or text rank (full text).</summary>
    internal static IReadOnlyList<(Candidate Candidate, double Score)> Rank(IReadOnlyList<Candidate> candidates, RetrievalMode mode, int rrfK, double textWeight) =>
        candidates
            .Select(c => (Candidate: c, Score: mode switch
            {
                RetrievalMode.Vector => c.Distance is { } d ? 1 - d : double.MinValue,
                RetrievalMode.FullText => c.TextScore ?? double.MinValue,
                _ => (c.VectorRank is { } v ? 1.0 / (rrfK + v) : 0) + (c.TextRank is { } t ? textWeight / (rrfK + t) : 0),
            }))
            .Where(x => x.Score > double.MinValue)
            .OrderByDescending(x => x.Score)
            .ThenBy(x => x.Candidate.Id)
            .ToList();

    private static string Validate(KnowledgeQuery query, KnowledgeSearchOptions settings)
    {
        var text = query.Text?.Trim() ?? "";
        if (text.Length == 0)
        {
            throw new KnowledgeValidationException("query", "Give a query: what to look for in the documents.");
        }

        if (text.Length > settings.MaxQueryChars)
        {
            throw new KnowledgeValidationException("query", $"The query is longer than {settings.MaxQueryChars} characters (MaxQueryChars). Ask for less at once.");
        }

        if (query.TopK is < 1 or > MaxTopK)
        {
            throw new KnowledgeValidationException("topK", $"topK must be between 1 and {MaxTopK}.");
        }

        if (query.CollectionIds.Count > MaxCollections)
        {
            throw new KnowledgeValidationException("collectionIds", $"Search at most {MaxCollections} collections at once.");
        }

        return text;
    }

    [GeneratedRegex(@"[\p{L}\p{Nd}]+")]
    private static partial Regex Word();
}
