using System.Diagnostics;
using Conclave.Bench.Common;
using Conclave.Knowledge.Contracts;
using Conclave.Knowledge.Embedding;
using Conclave.Sessions.Contracts;
using Conclave.Testing;
using Conclave.Testing.Host;

namespace Conclave.Bench.Knowledge;

/// <summary>
/// Runs are not starved while documents are embedded (issue 11): a run's step overhead (the orchestrator's own work
/// per persisted step, the model being an instant scripted one) with nothing else to do, then while a long PDF is
/// indexed. The local embedder has a thread per core at a lower priority (<c>Conclave:Knowledge:Embedding:Nice</c>),
/// so the scheduler hands a core to a run whenever one wants it; this shows whether it does. A search's query
/// embedding (normal priority, the tool's own path) is timed the same way: idle, and between the busy runs.
/// </summary>
internal static class StarvationBench
{
    /// <summary>Planner-Coder-Critic, seeded with every installation: three agents in turn.</summary>
    private static readonly Guid Team = new("00000000-0000-7000-8000-0000000000c3");

    public static async Task<IReadOnlyList<Figure>> RunAsync(ConclaveApp app, Guid libraryId, int pages, int idleRuns, int steps, Table table)
    {
        using var overhead = new StepOverhead();
        app.Provider.RespondWith(request => Reply.Text($"Step {request.Index} done.").InChunks(1).WithUsage(100, 10));
        var documents = app.Service<IKnowledgeDocuments>();
        var embedder = app.Service<KnowledgeEmbedder>();
        var random = new Random(7);

        // Idle: after one run that compiles the handlers and warms the pools.
        await RunAsync(app, steps);
        overhead.Clear();
        for (var i = 0; i < idleRuns; i++)
        {
            await RunAsync(app, steps);
        }

        var idle = overhead.ToList();
        var idleQueries = await EmbedQueriesAsync(embedder, random, 30);

        // Busy: runs one after the other while the book is embedded; a run that ends after the embedding is not counted.
        var book = TestDocuments.Pdf([.. Enumerable.Range(1, pages).Select(Page)]);
        var added = await documents.AddAsync(ConclaveApp.DefaultUserId, libraryId, "book.pdf", new MemoryStream(book), CancellationToken.None);
        async Task<KnowledgeDocument> BookAsync() => (await documents.FindAsync(ConclaveApp.DefaultUserId, added.Document.Id, CancellationToken.None))!;
        await Eventually.Until(
            async () => (await BookAsync()).State is DocumentState.Embedding or DocumentState.Ready or DocumentState.Failed,
            TimeSpan.FromMinutes(5),
            "the book is extracted and being embedded");
        var busy = new List<double>();
        var busyQueries = new List<double>();
        var busyRuns = 0;
        while (true)
        {
            overhead.Clear();
            await RunAsync(app, steps);
            if ((await BookAsync()).State is not DocumentState.Embedding)
            {
                break;
            }

            busy.AddRange(overhead);
            busyRuns++;
            var queries = await EmbedQueriesAsync(embedder, random, 10);
            if ((await BookAsync()).State is DocumentState.Embedding)
            {
                busyQueries.AddRange(queries);
            }
        }

        await Eventually.Until(async () => (await BookAsync()).State is DocumentState.Ready or DocumentState.Failed, TimeSpan.FromMinutes(30), "the book is indexed");
        var end = await BookAsync();
        if (end.State is not DocumentState.Ready)
        {
            throw new InvalidOperationException($"The book was not indexed: {end.State}: {end.Failure}");
        }

        var idleFigure = Figure.Of($"run step overhead, idle ({idleRuns} runs x {steps} steps)", idle, "ms", Target.None);
        var idleQueryFigure = Figure.Of("a search's query embedding, idle", idleQueries, "ms", Target.None);
        if (busyRuns == 0)
        {
            table.Note($"The {pages}-page book was embedded before a run of {steps} steps ended: no figures while embedding.");
            return [idleFigure, idleQueryFigure];
        }

        return
        [
            idleFigure,
            Figure.Of($"run step overhead while a {pages}-page PDF ({end.ChunksTotal:N0} chunks) is embedded ({busyRuns} runs)", busy, "ms", Target.None),
            Figure.Single("step overhead p50 while embedding vs idle", Percentiles.Of(busy, 50) / Percentiles.Of(idle, 50), "x", Target.None),
            idleQueryFigure,
            .. busyQueries.Count == 0 ? Array.Empty<Figure>() : [Figure.Of("a search's query embedding while the PDF is embedded", busyQueries, "ms", Target.None)],
        ];
    }

    private static async Task RunAsync(ConclaveApp app, int steps)
    {
        var sessions = app.Service<ISessions>();
        var owner = ConclaveApp.DefaultUserId;
        var session = await sessions.CreateAsync(owner, "starvation", CancellationToken.None);
        await sessions.ChooseTeamAsync(owner, session.Id, Team, "Planner-Coder-Critic", CancellationToken.None);
        var posted = await sessions.PostMessageAsync(owner, session.Id, $"Work in {steps} steps", new RunOverrides(MaxTurns: steps), CancellationToken.None);
        var end = await app.WaitForRunEndAsync(session.Id, posted.RunId, TimeSpan.FromMinutes(5));
        if (end.Data is not RunCompleted)
        {
            throw new InvalidOperationException($"A run ended with {end.Type}.");
        }
    }

    /// <summary>Times <paramref name="count"/> query embeddings one after the other, as searches ask for them.</summary>
    private static async Task<List<double>> EmbedQueriesAsync(KnowledgeEmbedder embedder, Random random, int count)
    {
        var times = new List<double>(count);
        for (var i = 0; i < count; i++)
        {
            var words = string.Join(' ', Enumerable.Range(0, random.Next(6, 14)).Select(_ => SyntheticCorpus.EnglishWords[random.Next(SyntheticCorpus.EnglishWords.Length)]));
            var started = Stopwatch.GetTimestamp();
            await embedder.EmbedQueryAsync($"how do {words}?", CancellationToken.None);
            times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        return times;
    }

    /// <summary>A page of three paragraphs of about a hundred words each.</summary>
    private static string[] Page(int number)
    {
        var random = new Random(number);
        return [.. Enumerable.Range(0, 3).Select(_ => string.Join(' ', Enumerable.Range(0, random.Next(90, 110)).Select(_ => SyntheticCorpus.EnglishWords[random.Next(SyntheticCorpus.EnglishWords.Length)])) + ".")];
    }
}
