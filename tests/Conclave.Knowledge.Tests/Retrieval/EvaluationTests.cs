using System.Globalization;
using System.Text;
using System.Text.Json;
using Conclave.Knowledge.Contracts;
using Conclave.Knowledge.Tests.Fixtures;
using Xunit.Abstractions;
using static Conclave.Knowledge.Tests.Fixtures.KnowledgeApp;

namespace Conclave.Knowledge.Tests.Retrieval;

/// <summary>
/// Retrieval quality on real documents: pages of the PostgreSQL 15 manual (Debian's postgresql-doc-15,
/// installed by scripts/postgres-docs.sh) and 63 questions whose answer passage is known
/// (Evaluation/postgres-manual.jsonl). Reports hit@5 and MRR@10 for vector-only, full-text-only and
/// hybrid search; hybrid must be at least as good as the better of the two.
/// </summary>
public sealed class EvaluationTests(KnowledgeApp app, ITestOutputHelper output) : IClassFixture<KnowledgeApp>
{
    /// <summary>Pages no question is about, so the right page has to win against others on the same subjects.</summary>
    private static readonly string[] Distractors =
    [
        "sql-notify.html", "sql-prepare.html", "sql-createsequence.html", "datatype-binary.html", "sql-lock.html",
        "indexes-index-only-scans.html", "tutorial-transactions.html",
    ];

    private sealed record Question(string Text, string File, string Expected);

    private sealed record Scores(double HitAt5, double Mrr);

    [Fact]
    public async Task Hybrid_search_is_at_least_as_good_as_vector_or_full_text_alone()
    {
        var manual = Environment.GetEnvironmentVariable("CONCLAVE_POSTGRES_MANUAL") is { Length: > 0 } configured
            ? configured
            : "/usr/share/doc/postgresql-doc-15/html";
        Assert.True(File.Exists(Path.Combine(manual, "index.html")),
            $"The PostgreSQL manual is not in {manual}: run scripts/postgres-docs.sh install (scripts/deps.sh and test.sh do).");
        var questions = File.ReadLines(Path.Combine(AppContext.BaseDirectory, "Evaluation", "postgres-manual.jsonl"))
            .Where(l => l.Trim().Length > 0)
            .Select(l => JsonDocument.Parse(l).RootElement)
            .Select(e => new Question(e.GetProperty("question").GetString()!, e.GetProperty("file").GetString()!, e.GetProperty("expected").GetString()!))
            .ToList();
        Assert.True(questions.Count >= 50, $"the evaluation set has {questions.Count} questions; it needs at least 50");

        var library = await CreateLibraryAsync(app.Client, "postgres manual");
        var files = questions.Select(q => q.File).Concat(Distractors).Distinct().ToList();
        var documents = new List<KnowledgeDocument>();
        foreach (var file in files)
        {
            documents.Add(await UploadAsync(app.Client, library.Id, file, await File.ReadAllBytesAsync(Path.Combine(manual, file))));
        }

        var started = DateTime.UtcNow;
        foreach (var document in documents)
        {
            await WaitUntilReadyAsync(app.Client, document.Id, TimeSpan.FromMinutes(4));
        }

        var indexing = DateTime.UtcNow - started;
        var search = app.Service<IKnowledgeSearch>();
        var results = new Dictionary<RetrievalMode, Scores>();
        var misses = new StringBuilder();
        foreach (var mode in new[] { RetrievalMode.Vector, RetrievalMode.FullText, RetrievalMode.Hybrid })
        {
            double hits = 0, reciprocal = 0;
            foreach (var question in questions)
            {
                var found = await search.SearchAsync(new KnowledgeQuery(ConclaveAppOwner, [library.Id], question.Text, 10, mode), CancellationToken.None);
                var rank = found.Select((h, i) => (h, i)).FirstOrDefault(x => Matches(x.h, question)) is { h: not null } match ? match.i + 1 : 0;
                hits += rank is > 0 and <= 5 ? 1 : 0;
                reciprocal += rank > 0 ? 1.0 / rank : 0;
                if (mode == RetrievalMode.Hybrid && rank is 0 or > 5)
                {
                    misses.AppendLine(CultureInfo.InvariantCulture, $"  hybrid miss: {question.Text} ({question.File}); top: {string.Join(", ", found.Take(3).Select(h => h.DocumentName))}");
                }
            }

            results[mode] = new Scores(hits / questions.Count, reciprocal / questions.Count);
        }

        var chunks = documents.Count == 0 ? 0 : await app.ScalarAsync<long>("SELECT count(*) FROM knowledge.chunks WHERE collection_id = @id", ("id", library.Id));
        var report = new StringBuilder();
        report.AppendLine(CultureInfo.InvariantCulture, $"Evaluation: {questions.Count} questions over {files.Count} manual pages ({chunks} chunks, indexed in {indexing.TotalSeconds:0} s)");
        report.AppendLine("| retrieval | hit@5 | MRR@10 |");
        report.AppendLine("|---|---|---|");
        foreach (var (mode, scores) in results)
        {
            report.AppendLine(CultureInfo.InvariantCulture, $"| {mode} | {scores.HitAt5:0.000} | {scores.Mrr:0.000} |");
        }

        report.Append(misses);
        output.WriteLine(report.ToString());
        await File.WriteAllTextAsync(Path.Combine(AppContext.BaseDirectory, "evaluation-results.md"), report.ToString());

        var best = new Scores(
            Math.Max(results[RetrievalMode.Vector].HitAt5, results[RetrievalMode.FullText].HitAt5),
            Math.Max(results[RetrievalMode.Vector].Mrr, results[RetrievalMode.FullText].Mrr));
        Assert.True(results[RetrievalMode.Hybrid].HitAt5 >= best.HitAt5, $"hybrid hit@5 is below the better single method:\n{report}");
        Assert.True(results[RetrievalMode.Hybrid].Mrr >= best.Mrr, $"hybrid MRR is below the better single method:\n{report}");
    }

    private const string ConclaveAppOwner = Conclave.Testing.Host.ConclaveApp.DefaultUserId;

    private static bool Matches(KnowledgeHit hit, Question question) =>
        hit.DocumentName == question.File && Normalize(hit.Passage).Contains(Normalize(question.Expected), StringComparison.Ordinal);

    private static string Normalize(string text) => string.Join(' ', text.ToLowerInvariant().Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
}
