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
/// One chunk found by either list, with its rank in each (null: not in that list). Its text
/// (<see cref="ChunkText"/>) travels apart: a list sends it for its best rows only, the rest is read by id
/// when a passage needs it.
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
/// (RrfK, TextWeight; ADR 0011 says how the defaults were chosen). Each list sends the texts of its best
/// 2 × TopK only (sending every candidate's text, most of them TOASTed, cost more than either list); a
/// passage that needs another chunk's text reads it by id afterwards.
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
        var (candidates, texts) = await CandidatesAsync(query, text, vector, cancellationToken);
        var ranked = Rank(candidates, query.Mode, settings.RrfK, settings.TextWeight);
        var wanted = PassageMerger.LikelyNeeded(ranked, query.TopK).Where(id => !texts.ContainsKey(id)).ToList();
        while (true)
        {
            await ReadTextsAsync(query.OwnerId, wanted, texts, cancellationToken);
            if (PassageMerger.Merge(ranked, query.TopK, texts, out var unread) is { } hits)
            {
                return hits;
            }

            // A chunk further down merges into a passage, or near-duplicates were dropped.
            wanted = ranked.Skip(unread).Take(query.TopK * 2).Select(r => r.Candidate.Id).Where(id => !texts.ContainsKey(id)).ToList();
        }
    }

    /// <summary>
    /// Both lists' candidates for an already embedded query, and the texts each list sent for its best
    /// 2 × TopK (most passages are made of those, so a search seldom reads texts afterwards). The vector
    /// list and the full-text list are two statements on two connections at once, so the search takes about
    /// as long as the slower list rather than both.
    /// </summary>
    internal async Task<(IReadOnlyList<Candidate> Candidates, Dictionary<long, ChunkText?> Texts)> CandidatesAsync(
        KnowledgeQuery query, string text, float[]? vector, CancellationToken cancellationToken)
    {
        var common = await commonTerms.GetAsync(cancellationToken);
        var lists = await Task.WhenAll(Lists(query, text, vector).Select(list => ReadAsync(query, text, vector, common, list, cancellationToken)));
        var texts = new Dictionary<long, ChunkText?>();
        foreach (var (id, chunkText) in lists.SelectMany(l => l.Texts))
        {
            texts[id] = chunkText;
        }

        var candidates = lists.SelectMany(l => l.Candidates)
            .GroupBy(c => c.Id)
            .Select(g => g.Aggregate((a, b) => a with
            {
                VectorRank = a.VectorRank ?? b.VectorRank,
                Distance = a.Distance ?? b.Distance,
                TextRank = a.TextRank ?? b.TextRank,
                TextScore = a.TextScore ?? b.TextScore,
            }))
            .ToList();
        return (candidates, texts);
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

    private async Task<(List<Candidate> Candidates, List<(long Id, ChunkText Text)> Texts)> ReadAsync(
        KnowledgeQuery query, string text, float[]? vector, string[] common, List list, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = Command(connection, query, text, vector, common, list, "");
        var candidates = new List<Candidate>();
        var texts = new List<(long, ChunkText)>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            // The statement numbers the rows: 1 is the nearest (vector) or the best text rank (full text).
            var id = reader.GetInt64(0);
            var score = reader.GetDouble(7);
            var place = (int)reader.GetInt64(8);
            candidates.Add(new Candidate(
                id,
                reader.GetGuid(1),
                reader.GetGuid(2),
                reader.GetInt32(3),
                reader.IsDBNull(4) ? null : reader.GetInt32(4),
                reader.IsDBNull(5) ? null : reader.GetString(5),
                reader.GetInt32(6),
                list == List.Vector ? place : null,
                list == List.Vector ? score : null,
                list == List.Text ? place : null,
                list == List.Text ? score : null));
            if (!reader.IsDBNull(10))
            {
                texts.Add((id, new ChunkText(reader.GetString(9), reader.GetString(10))));
            }
        }

        return (candidates, texts);
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
        var ranked = list == List.Vector
            ? $"""
                SELECT id, document_id, collection_id, ordinal, page, heading, overlap, body, embedding <=> @vector AS score
                FROM knowledge.chunks
                WHERE owner_id = @owner AND collection_id = ANY(@collections)
                ORDER BY {KnowledgeDatabase.NearestOrder(database.Dimensions)} LIMIT @limit
                """
            // The question's words OR'ed, less those in more than CommonTermFrequency of all chunks (a stop
            // list the corpus keeps up to date, see CommonTerms), by knowledge.search_query. Ranking reads each
            // match's tsvector, so at most MaxTextMatches matches are ranked.
            : """
                WITH m AS MATERIALIZED (
                    SELECT id, document_id, collection_id, ordinal, page, heading, overlap, body, search
                    FROM knowledge.chunks
                    WHERE owner_id = @owner AND collection_id = ANY(@collections) AND search @@ knowledge.search_query(@words, @common)
                    LIMIT @matches)
                SELECT id, document_id, collection_id, ordinal, page, heading, overlap, body,
                       ts_rank(search, knowledge.search_query(@words, @common))::float8 AS score
                FROM m ORDER BY score DESC, id LIMIT @limit
                """;
        // Texts (TOASTed: read only when sent) go out for the best @texts rows alone.
        var order = list == List.Vector ? "score, id" : "score DESC, id";
        var sql = $"""
            SELECT r.id, r.document_id, r.collection_id, r.ordinal, r.page, r.heading, r.overlap, r.score, r.place,
                   d.name, CASE WHEN r.place <= @texts THEN r.body END
            FROM (SELECT l.*, row_number() OVER (ORDER BY {order}) AS place FROM ({ranked}) l) r
            JOIN knowledge.documents d ON d.id = r.document_id
            """;

        // ef_search, the iterative scan, custom plans and jit are set on the module's connections (KnowledgeDatabase).
        var command = new NpgsqlCommand(prefix + sql, connection);
        command.Parameters.AddWithValue("owner", query.OwnerId);
        command.Parameters.AddWithValue("collections", query.CollectionIds.Distinct().ToArray());
        command.Parameters.AddWithValue("limit", limit);
        command.Parameters.AddWithValue("texts", (long)query.TopK * 2);
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
