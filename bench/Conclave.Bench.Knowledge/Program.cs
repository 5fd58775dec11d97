// Knowledge benchmark (issue 11): ingest chunks/s end to end (a first round while the JIT is still at work, reported,
// then the steady state, with the goal) and embedding alone; run step overhead idle and while
// a 500-page PDF is embedded (runs are not starved); search over 100,000
// chunks (the SQL part, the whole tool with the query's embedding, HNSW recall@10 against exact search
// at the ef_search used); the embedding model's resident memory in the Host.
// Run: source .data/env.sh; Logging__LogLevel__Default=Warning dotnet run -c Release --project bench/Conclave.Bench.Knowledge [-- --smoke] [-- --threads=N]
//   --smoke      tiny n, no thresholds (test.sh runs every bench this way)
//   --only=ingest|search  one part
//   --explain    print the search's plan (EXPLAIN ANALYZE, BUFFERS) for a query after the timed ones
//   --threads=N  the local model's ingest threads (default: the product's, one per core at nice 10)
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Conclave.Bench.Common;
using Conclave.Bench.Knowledge;
using Conclave.Knowledge;
using Conclave.Knowledge.Chunking;
using Conclave.Knowledge.Contracts;
using Conclave.Knowledge.Embedding;
using Conclave.Knowledge.Extraction;
using Conclave.Knowledge.Retrieval;
using Conclave.Knowledge.Storage;
using Conclave.Testing;
using Conclave.Testing.Host;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using Pgvector;

var smoke = args.Contains("--smoke");
var only = args.FirstOrDefault(a => a.StartsWith("--only=", StringComparison.Ordinal))?["--only=".Length..];
var corpusSize = smoke ? 2_000 : 100_000;
var searchRuns = smoke ? 20 : 300;
var recallRuns = smoke ? 10 : 100;
var ingestDocuments = smoke ? 1 : 8;
var wordsPerDocument = smoke ? 500 : 7_500;
const string Owner = ConclaveApp.DefaultUserId;
const double MiB = 1024 * 1024;

var app = new ConclaveApp();
if (args.FirstOrDefault(a => a.StartsWith("--threads=", StringComparison.Ordinal)) is { } threads)
{
    app.ExtraSettings["Conclave:Knowledge:Embedding:Threads"] = threads["--threads=".Length..];
}

await app.InitializeAsync();
var table = new Table(smoke);
try
{
    var options = app.Service<IOptions<KnowledgeOptions>>().Value;
    var embedder = app.Service<KnowledgeEmbedder>();
    var collections = app.Service<IKnowledgeCollections>();
    var documents = app.Service<IKnowledgeDocuments>();
    var random = new Random(11);

    var clock = new Stopwatch();
    Guid? ingestLibrary = null;
    if (only is null or "ingest")
    {
        // 1. Memory: the Host's resident set before and after the model is loaded.
        var before = ResidentBytes();
        await embedder.EmbedPassagesAsync(["warm up"], CancellationToken.None);
        var after = ResidentBytes();
        table.Add(Figure.Single("embedding model resident memory in the Host (RSS after first use - before)", (after - before) / MiB, "MiB", Target.None));

        // 2. Ingest end to end: upload -> queue -> extract -> chunk -> embed -> insert -> ready.
        var library = await collections.CreateLibraryAsync(Owner, "bench ingest", null, CancellationToken.None);
        ingestLibrary = library.Id;
        var markdown = Enumerable.Range(0, ingestDocuments).Select(i => Markdown(i, wordsPerDocument)).ToList();

        // Warm-up, not timed: the first message of a type makes Wolverine generate and compile its handler (seconds).
        var warmUp = await documents.AddAsync(Owner, library.Id, "warm-up.md", new MemoryStream(Encoding.UTF8.GetBytes(Markdown(99, 50))), CancellationToken.None);
        await Eventually.Until(
            async () => (await documents.FindAsync(Owner, warmUp.Document.Id, CancellationToken.None))!.State is DocumentState.Ready or DocumentState.Failed,
            TimeSpan.FromMinutes(5),
            "the warm-up document is indexed");
        // Twice, on documents of their own: the first time the Host's JIT is still compiling the ingest path's hot
        // code at its optimised tier (a fifth to a third of the CPU in a perf profile of that window); the
        // second time is the steady state a Host that has been up for a while has, and the figure with the goal.
        var firstRound = await IngestAsync(Enumerable.Range(100, ingestDocuments).Select(i => Markdown(i, wordsPerDocument)).ToList(), "first");
        table.Add(Figure.Single(
            $"ingest end to end, first documents after the Host started (JIT still at work), {firstRound.Chunks} chunks",
            firstRound.Chunks / firstRound.Seconds, "chunks/s", Target.None));
        var steady = await IngestAsync(markdown, "doc");
        table.Add(Figure.Single(
            $"ingest end to end, {steady.Chunks} chunks of {options.Chunking.ChunkTokens} tokens in {ingestDocuments} documents",
            steady.Chunks / steady.Seconds, "chunks/s", Target.AtLeastValue(40)));

        async Task<(int Chunks, double Seconds)> IngestAsync(IReadOnlyList<string> texts, string prefix)
        {
            var elapsed = Stopwatch.StartNew();
            var ids = new List<Guid>();
            for (var i = 0; i < texts.Count; i++)
            {
                var added = await documents.AddAsync(Owner, library.Id, $"{prefix}-{i}.md", new MemoryStream(Encoding.UTF8.GetBytes(texts[i])), CancellationToken.None);
                ids.Add(added.Document.Id);
            }

            var ready = new List<KnowledgeDocument>();
            await Eventually.Until(
                async () =>
                {
                    ready.Clear();
                    foreach (var id in ids)
                    {
                        ready.Add((await documents.FindAsync(Owner, id, CancellationToken.None))!);
                    }

                    return ready.All(d => d.State is DocumentState.Ready or DocumentState.Failed);
                },
                TimeSpan.FromMinutes(30),
                "the bench documents are indexed");
            return (ready.Sum(d => d.ChunksTotal), elapsed.Elapsed.TotalSeconds);
        }

        // Embedding alone, the same chunks in the same batches.
        var counter = app.Service<ITokenCounter>();
        var chunker = new Chunker(counter, options.Chunking.ChunkTokens, options.Chunking.OverlapTokens, int.MaxValue);
        clock.Restart();
        var texts = markdown
            .SelectMany(m => chunker.Split(DocumentReader.Read("doc.md", Encoding.UTF8.GetBytes(m), ExtractionLimits.From(options.Limits), CancellationToken.None), CancellationToken.None))
            .Select(c => c.EmbeddingText)
            .ToList();
        table.Add(Figure.Single($"extract + chunk alone, same {texts.Count} chunks (tokens counted by the model's tokenizer)", texts.Count / clock.Elapsed.TotalSeconds, "chunks/s", Target.None));
        clock.Restart();
        foreach (var batch in texts.Chunk(options.Embedding.BatchSize))
        {
            await embedder.EmbedPassagesAsync(batch, CancellationToken.None);
        }

        var embedRate = texts.Count / clock.Elapsed.TotalSeconds;
        var (model, workers) = ArcticEmbeddingGenerator.Loaded!.Value;
        table.Add(Figure.Single(
            $"embedding alone, same {texts.Count} chunks (batches of {options.Embedding.BatchSize}, {(model.Int8 ? "int8" : "float")} model, {workers.Threads} thread(s), {workers.Lowered} at nice {options.Embedding.Nice})",
            embedRate, "chunks/s", Target.None));
        table.Add(Figure.Single($"  loading the model ({(model.Int8 ? $"{model.QuantizedMatrices} matrices made int8 at load" : "float")})", model.LoadTime.TotalSeconds, "s", Target.None));

        // What int8 costs and gives: the same chunks through the float model on one thread, and how close the vectors are.
        var sample = texts.Take(smoke ? 8 : 64).ToArray();
        using (var floatModel = ArcticOnnxModel.Load(int8: false))
        {
            var quantized = Timed(() => model.Encode(sample, CancellationToken.None));
            var exact = Timed(() => floatModel.Encode(sample, CancellationToken.None));
            var cosines = quantized.Vectors.Zip(exact.Vectors, (a, b) => a.Zip(b, (x, y) => (double)x * y).Sum()).ToList();
            table.Add(Figure.Single($"  one thread, {sample.Length} chunks: {(model.Int8 ? "int8" : "this")} model", sample.Length / quantized.Seconds, "chunks/s", Target.None));
            table.Add(Figure.Single($"  one thread, {sample.Length} chunks: float model", sample.Length / exact.Seconds, "chunks/s", Target.None));
            table.Add(Figure.Single($"  cosine of each chunk's two vectors, lowest (mean {cosines.Average():F4})", cosines.Min(), "", Target.None));
        }

        // 2b. Runs are not starved while a long document is embedded: step overhead idle vs during the embedding.
        foreach (var figure in await StarvationBench.RunAsync(app, library.Id, pages: smoke ? 20 : 500, idleRuns: smoke ? 2 : 10, steps: smoke ? 4 : 10, table))
        {
            table.Add(figure);
        }
    }

    if (only is "ingest")
    {
        return table.ExitCode;
    }

    // 3. Search over a synthetic corpus, inserted with binary COPY; 10% belongs to another owner. The ingest part's
    // real-text chunks go first: a real query's embedding lies near them, not near the synthetic vectors, so the
    // filtered HNSW scan of the whole-tool loop would walk through them before it found the library's own (the
    // same happens to a small collection among many near chunks of others; ~11 ms here with ~1,700 of them).
    if (ingestLibrary is { } ingested)
    {
        await collections.DeleteLibraryAsync(Owner, ingested, CancellationToken.None);
    }

    var database = app.Service<KnowledgeDatabase>();
    var searchLibrary = await collections.CreateLibraryAsync(Owner, "bench search", null, CancellationToken.None);
    var corpus = new SyntheticCorpus(random, clusters: smoke ? 50 : 2_000);
    var build = Stopwatch.StartNew();
    await LoadCorpusAsync(database, corpus, searchLibrary.Id, corpusSize, random);
    table.Add(Figure.Single($"load {corpusSize:N0} chunks (COPY binary) and build the HNSW and GIN indexes", build.Elapsed.TotalSeconds, "s", Target.None));

    var search = (HybridSearch)app.Service<IKnowledgeSearch>();
    // Each figure in a loop of its own, on queries of its own: the SQL part back to back (as a busy node runs
    // searches), then the whole tool, whose query embedding runs before each search. The SQL part is timed
    // twice: right after the load (the corpus is larger than shared_buffers, so most pages come from the OS
    // cache) and once more on new queries, as a Host that has been searching for a while sees it. The first
    // ten of each loop warm the pools, the plans and the JIT.
    var coldSql = new List<double>();
    var sql = new List<double>();
    for (var i = 0; i < 2 * searchRuns + 10; i++)
    {
        var (text, vector) = corpus.Query(random);
        clock.Restart();
        await search.FindAsync(new KnowledgeQuery(Owner, [searchLibrary.Id], text, 5), text, vector, CancellationToken.None);
        if (i >= 10)
        {
            (i < searchRuns + 10 ? coldSql : sql).Add(clock.Elapsed.TotalMilliseconds);
        }
    }

    var whole = new List<double>();
    for (var i = 0; i < searchRuns + 10; i++)
    {
        var (text, _) = corpus.Query(random);
        clock.Restart();
        await search.SearchAsync(new KnowledgeQuery(Owner, [searchLibrary.Id], text, 5), CancellationToken.None);
        if (i >= 10)
        {
            whole.Add(clock.Elapsed.TotalMilliseconds);
        }
    }

    // Its first part alone: the query's embedding (the tool's path: normal priority, on the caller's side).
    var queryEmbedding = new List<double>();
    for (var i = 0; i < searchRuns / 3 + 10; i++)
    {
        var (text, _) = corpus.Query(random);
        clock.Restart();
        await embedder.EmbedQueryAsync(text, CancellationToken.None);
        if (i >= 10)
        {
            queryEmbedding.Add(clock.Elapsed.TotalMilliseconds);
        }
    }

    if (args.Contains("--explain"))
    {
        var (text, vector) = corpus.Query(random);
        Console.WriteLine(await search.ExplainAsync(new KnowledgeQuery(Owner, [searchLibrary.Id], text, 5), text, vector, CancellationToken.None));
    }

    table.Add(Figure.Of($"search, SQL part, first {searchRuns} queries after the load (cold buffers)", coldSql, "ms", Target.None));
    table.Add(Figure.Of($"search, SQL part (HNSW + full text, fused, passages read; {corpusSize:N0} chunks, ef_search {options.Search.EfSearch}, {options.Search.MaxTextMatches} text matches ranked)", sql, "ms", Target.Latency(5, 20)));
    table.Add(Figure.Of("search_knowledge whole: embed the query + search + merge", whole, "ms", Target.Latency(25, null)));
    table.Add(Figure.Of("  the query's embedding alone", queryEmbedding, "ms", Target.None));

    var recall = await RecallAsync(database, corpus, searchLibrary.Id, options.Search.EfSearch, recallRuns, random);
    table.Add(Figure.Single($"HNSW recall@10 (halfvec index) vs exact float search (ef_search {options.Search.EfSearch}, m 16, ef_construction 64, iterative scan)", recall, "", Target.AtLeastValue(0.95)));
}
finally
{
    table.Print();
    await app.DisposeAsync();
}

return table.ExitCode;

static long ResidentBytes()
{
    GC.Collect();
    GC.WaitForPendingFinalizers();
    using var process = Process.GetCurrentProcess();
    process.Refresh();
    return process.WorkingSet64;
}

static string Markdown(int seed, int words)
{
    var random = new Random(seed);
    var text = new StringBuilder();
    var written = 0;
    var section = 0;
    while (written < words)
    {
        text.Append(CultureInfo.InvariantCulture, $"## Section {++section} of document {seed}\n\n");
        for (var p = 0; p < 4 && written < words; p++)
        {
            for (var s = 0; s < 5; s++)
            {
                var length = random.Next(12, 24);
                text.Append(string.Join(' ', Enumerable.Range(0, length).Select(_ => SyntheticCorpus.EnglishWords[random.Next(SyntheticCorpus.EnglishWords.Length)])));
                text.Append(". ");
                written += length;
            }

            text.Append("\n\n");
        }
    }

    return text.ToString();
}

static async Task LoadCorpusAsync(KnowledgeDatabase database, SyntheticCorpus corpus, Guid libraryId, int size, Random random)
{
    await using var connection = await database.OpenAsync(CancellationToken.None);
    var otherLibrary = Guid.CreateVersion7();
    await Execute(connection, """
        INSERT INTO knowledge.collections (id, owner_id, kind, name, created_at, updated_at) VALUES (@other, 'someone-else', 'Library', 'theirs', now(), now());
        DROP INDEX knowledge.chunks_embedding_half;
        DROP INDEX knowledge.chunks_search;
        """, ("other", otherLibrary));
    const int PerDocument = 1_000;
    var documentIds = new List<(Guid Id, Guid Collection, string Owner)>();
    for (var d = 0; d * PerDocument < size; d++)
    {
        var theirs = d % 10 == 9;
        var id = Guid.CreateVersion7();
        documentIds.Add((id, theirs ? otherLibrary : libraryId, theirs ? "someone-else" : ConclaveApp.DefaultUserId));
        await Execute(connection, """
            INSERT INTO knowledge.documents (id, collection_id, owner_id, name, kind, size_bytes, sha256, version, live_version, state, chunks_embedded, chunks_total, created_at, updated_at)
            VALUES (@id, @collection, @owner, @name, 'text', 0, @sha, 1, 1, 'Ready', 1000, 1000, now(), now())
            """,
            ("id", id), ("collection", theirs ? otherLibrary : libraryId), ("owner", theirs ? "someone-else" : ConclaveApp.DefaultUserId),
            ("name", $"synthetic-{d}.txt"), ("sha", Guid.NewGuid().ToByteArray()));
    }

    await using (var writer = await connection.BeginBinaryImportAsync(
        "COPY knowledge.chunks (document_id, owner_id, collection_id, ordinal, page, heading, body, overlap, embedding) FROM STDIN (FORMAT BINARY)"))
    {
        for (var i = 0; i < size; i++)
        {
            var (id, collection, owner) = documentIds[i / PerDocument];
            var (text, vector) = corpus.Chunk(random);
            await writer.StartRowAsync();
            await writer.WriteAsync(id, NpgsqlDbType.Uuid);
            await writer.WriteAsync(owner, NpgsqlDbType.Text);
            await writer.WriteAsync(collection, NpgsqlDbType.Uuid);
            await writer.WriteAsync(i % PerDocument, NpgsqlDbType.Integer);
            await writer.WriteNullAsync();
            await writer.WriteAsync("Synthetic section", NpgsqlDbType.Text);
            await writer.WriteAsync(text, NpgsqlDbType.Text);
            await writer.WriteAsync(0, NpgsqlDbType.Integer);
            await writer.WriteAsync(new Vector(vector), "vector");
        }

        await writer.CompleteAsync();
    }

    // The same definitions as the schema's (KnowledgeDatabase), built once over the loaded rows.
    await Execute(connection, $"""
        SET maintenance_work_mem = '1GB';
        {KnowledgeDatabase.EmbeddingIndex(database.Dimensions)}
        CREATE INDEX chunks_search ON knowledge.chunks USING gin (search);
        """);
    // Vacuumed and analysed now, as a table that has been in use would be: left to autovacuum, the vacuum that
    // 100,000 inserts set off ran during the timed searches (each a statement of its own: not in a transaction).
    await Execute(connection, "VACUUM (ANALYZE) knowledge.chunks");
    await Execute(connection, "VACUUM (ANALYZE) knowledge.documents");
}

static async Task<double> RecallAsync(KnowledgeDatabase database, SyntheticCorpus corpus, Guid libraryId, int efSearch, int runs, Random random)
{
    // The approximate list orders as the product's search does (by the index's half-precision copies); the exact
    // one by the full-precision vectors, without an index: recall counts what both steps lose.
    var approximateSql = $"""
        SELECT id FROM knowledge.chunks WHERE owner_id = @owner AND collection_id = ANY(@collections)
        ORDER BY {KnowledgeDatabase.NearestOrder(database.Dimensions)} LIMIT 10
        """;
    const string ExactSql = """
        SELECT id FROM knowledge.chunks WHERE owner_id = @owner AND collection_id = ANY(@collections)
        ORDER BY embedding <=> @vector LIMIT 10
        """;
    await using var connection = await database.OpenAsync(CancellationToken.None);
    double found = 0;
    for (var i = 0; i < runs; i++)
    {
        var (_, vector) = corpus.Query(random);
        var approximate = await IdsAsync(connection, $"SET LOCAL hnsw.ef_search = {efSearch}; SET LOCAL hnsw.iterative_scan = relaxed_order;", approximateSql, vector, libraryId);
        var exact = await IdsAsync(connection, "SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off;", ExactSql, vector, libraryId);
        found += approximate.Intersect(exact).Count() / (double)Math.Max(1, exact.Count);
    }

    return found / runs;
}

static async Task<List<long>> IdsAsync(NpgsqlConnection connection, string settings, string sql, float[] vector, Guid libraryId)
{
    await using var tx = await connection.BeginTransactionAsync();
    await using (var set = new NpgsqlCommand(settings, connection, tx))
    {
        await set.ExecuteNonQueryAsync();
    }

    await using var command = new NpgsqlCommand(sql, connection, tx);
    command.Parameters.AddWithValue("owner", ConclaveApp.DefaultUserId);
    command.Parameters.AddWithValue("collections", new[] { libraryId });
    command.Parameters.AddWithValue("vector", new Vector(vector));
    var ids = new List<long>();
    await using (var reader = await command.ExecuteReaderAsync())
    {
        while (await reader.ReadAsync())
        {
            ids.Add(reader.GetInt64(0));
        }
    }

    await tx.CommitAsync();
    return ids;
}

static async Task Execute(NpgsqlConnection connection, string sql, params (string Name, object Value)[] parameters)
{
    await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
    foreach (var (name, value) in parameters)
    {
        command.Parameters.AddWithValue(name, value);
    }

    await command.ExecuteNonQueryAsync();
}

static (float[][] Vectors, double Seconds) Timed(Func<float[][]> encode)
{
    encode(); // warm: the first call plans the graph for this shape
    var clock = Stopwatch.StartNew();
    var vectors = encode();
    return (vectors, clock.Elapsed.TotalSeconds);
}
