using System.ComponentModel.DataAnnotations;
using Conclave.Knowledge.Contracts;

namespace Conclave.Knowledge;

/// <summary>The Knowledge module's settings (<c>Conclave:Knowledge</c>), validated at start-up.</summary>
public sealed class KnowledgeOptions
{
    public const string Section = "Conclave:Knowledge";

    public KnowledgeLimitsOptions Limits { get; set; } = new();

    public KnowledgeEmbeddingOptions Embedding { get; set; } = new();

    public KnowledgeChunkingOptions Chunking { get; set; } = new();

    public KnowledgeIngestOptions Ingest { get; set; } = new();

    public KnowledgeSearchOptions Search { get; set; } = new();
}

/// <summary>Each limit's property name is what an error names when the limit is hit.</summary>
public sealed class KnowledgeLimitsOptions
{
    /// <summary>The largest document accepted, in bytes (an upload over it is refused with 413).</summary>
    [Range(1, 1L << 30)]
    public long MaxDocumentBytes { get; set; } = 32L * 1024 * 1024;

    /// <summary>The most pages a PDF may have.</summary>
    [Range(1, 1_000_000)]
    public int MaxPages { get; set; } = 2_000;

    /// <summary>The most chunks one document may be cut into.</summary>
    [Range(1, 1_000_000)]
    public int MaxChunksPerDocument { get; set; } = 10_000;

    /// <summary>Stored copies of all of a user's documents together, in bytes.</summary>
    [Range(1, long.MaxValue)]
    public long MaxStorageBytesPerUser { get; set; } = 1L << 30;

    /// <summary>Documents one node ingests at once (the rest wait, durably, in the queue).</summary>
    [Range(1, 64)]
    public int MaxConcurrentIngests { get; set; } = 2;

    /// <summary>Characters of text one document may yield.</summary>
    [Range(1, int.MaxValue)]
    public int MaxExtractedChars { get; set; } = 16 * 1024 * 1024;

    /// <summary>What a DOCX (a zip) may unpack to, in bytes: a zip bomb is refused before it is opened.</summary>
    [Range(1, long.MaxValue)]
    public long MaxDecompressedBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>The highest uncompressed:compressed ratio of an entry of a DOCX.</summary>
    [Range(1, 100_000)]
    public int MaxCompressionRatio { get; set; } = 200;

    /// <summary>Libraries one user may keep.</summary>
    [Range(1, 100_000)]
    public int MaxLibrariesPerUser { get; set; } = 200;
}

public sealed class KnowledgeEmbeddingOptions
{
    public EmbeddingProvider Provider { get; set; } = EmbeddingProvider.Local;

    /// <summary>Base URL of the OpenAI-compatible endpoint (Provider = OpenAI), e.g. https://api.openai.com/v1.</summary>
    public string? Endpoint { get; set; }

    public string? ApiKey { get; set; }

    /// <summary>The embedding model at the endpoint (Provider = OpenAI).</summary>
    public string? Model { get; set; }

    /// <summary>The vector size stored; checked against the model at start-up and against the existing table.</summary>
    [Range(1, 16_000)]
    public int Dimensions { get; set; } = 384;

    /// <summary>Put before every query (not before passages). Null: the local model's own instruction; empty: none.</summary>
    public string? QueryPrefix { get; set; }

    /// <summary>Texts per embedding call.</summary>
    [Range(1, 256)]
    public int BatchSize { get; set; } = 16;

    /// <summary>
    /// Threads the local model embeds ingest batches on; 0 means one per core. They run at Linux's idle
    /// priority (SCHED_IDLE, and <see cref="Nice"/>), so they take only the cores nothing else wants.
    /// </summary>
    [Range(0, 256)]
    public int Threads { get; set; }

    /// <summary>The Linux nice value of the local model's ingest threads, which then also take SCHED_IDLE (0: neither, same priority as the rest).</summary>
    [Range(0, 19)]
    public int Nice { get; set; } = 10;

    /// <summary>Run the local model's dense layers in int8 (about twice as fast on CPUs with int8 dot products).</summary>
    public bool Int8 { get; set; } = true;

    /// <summary>Ingest embedding calls at once in the process. Queries do not wait for these.</summary>
    [Range(1, 64)]
    public int MaxConcurrency { get; set; } = 1;
}

public sealed class KnowledgeChunkingOptions
{
    /// <summary>The size a chunk aims at, in the embedder's tokens (the model reads at most 512).</summary>
    [Range(16, 510)]
    public int ChunkTokens { get; set; } = 256;

    /// <summary>Tokens of the previous chunk repeated at the start of the next one in the same section.</summary>
    [Range(0, 256)]
    public int OverlapTokens { get; set; } = 32;
}

public sealed class KnowledgeIngestOptions
{
    /// <summary>How often a worker renews its hold on the document it ingests.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00")]
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>A document whose worker has not renewed its hold for this long is queued again (its embedded chunks are kept).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan LeaseTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How often abandoned ingests are looked for.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "01:00:00")]
    public TimeSpan ReaperInterval { get; set; } = TimeSpan.FromSeconds(15);
}

public sealed class KnowledgeSearchOptions
{
    /// <summary>
    /// pgvector's hnsw.ef_search for each query (higher: better recall, slower). Keep it above
    /// <see cref="Candidates"/> by the share of the index other owners' chunks take: a first pass that
    /// finds too few of the caller's chunks scans the graph again (at 40 for 40 candidates, with a tenth
    /// of the chunks someone else's, that second pass made the vector list 1.6 times as slow). 32 for 20
    /// candidates: recall@10 0.99 over 100,000 chunks (the Knowledge bench).
    /// </summary>
    [Range(10, 1000)]
    public int EfSearch { get; set; } = 32;

    /// <summary>
    /// Candidates taken from each of the vector and full-text lists before fusion (at least 2 × TopK). 20 and
    /// 40 score the same on the evaluation set; 20 lets the index search less of the graph.
    /// </summary>
    [Range(5, 1000)]
    public int Candidates { get; set; } = 20;

    /// <summary>
    /// The k of reciprocal rank fusion: score = 1 / (k + vector rank) + TextWeight / (k + text rank). A small k
    /// lets the top of each list count (60, the textbook value, rewards chunks both lists merely contain).
    /// </summary>
    [Range(1, 1000)]
    public int RrfK { get; set; } = 5;

    /// <summary>
    /// How much a full-text rank counts against a vector rank of the same place. Below 1: the model's
    /// ranking leads and keywords promote; a chunk only full text finds still reaches the top ten.
    /// </summary>
    [Range(0.0, 10.0)]
    public double TextWeight { get; set; } = 0.5;

    [Range(1, 100_000)]
    public int MaxQueryChars { get; set; } = 2_000;

    /// <summary>
    /// A query word found in more than this share of all chunks (by ANALYZE's statistics) is left out of
    /// full-text search, unless every word is that common: it would match most chunks and rank none.
    /// </summary>
    [Range(0.0, 1.0)]
    public double CommonTermFrequency { get; set; } = 0.02;

    /// <summary>
    /// Full-text matches ranked per query at most (ranking reads each match's tsvector, ~13 µs each on the
    /// bench machine). 100 scored as well as 300 on the evaluation set (ADR 0011).
    /// </summary>
    [Range(10, 1_000_000)]
    public int MaxTextMatches { get; set; } = 100;
}
