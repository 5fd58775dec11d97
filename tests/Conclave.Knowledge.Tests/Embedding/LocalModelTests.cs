using Conclave.Knowledge.Embedding;

namespace Conclave.Knowledge.Tests.Embedding;

/// <summary>The local model as the module runs it: int8 weights close to the float model's, any text length, any order.</summary>
public sealed class LocalModelTests
{
    private static readonly Lazy<ArcticOnnxModel> Int8 = new(() => ArcticOnnxModel.Load(int8: true));
    private static readonly Lazy<ArcticOnnxModel> Float = new(() => ArcticOnnxModel.Load(int8: false));

    private static readonly string[] Texts =
    [
        "Represent this sentence for searching relevant passages: how do I create an index concurrently?",
        "CREATE INDEX CONCURRENTLY builds the index without taking locks that prevent concurrent inserts, updates, or deletes on the table.",
        "The autovacuum daemon automates the execution of VACUUM and ANALYZE commands.",
        "short",
    ];

    [Fact]
    public void Int8_vectors_are_unit_length_and_within_a_percent_of_the_float_models()
    {
        var quantized = Int8.Value.Encode(Texts, CancellationToken.None);
        var exact = Float.Value.Encode(Texts, CancellationToken.None);

        Assert.True(Int8.Value.QuantizedMatrices > 0, "no matrix was made int8");
        for (var i = 0; i < Texts.Length; i++)
        {
            Assert.Equal(LocalModel.Dimensions, quantized[i].Length);
            Assert.Equal(1.0, Math.Sqrt(quantized[i].Sum(x => (double)x * x)), 3);
            var cosine = quantized[i].Zip(exact[i], (a, b) => (double)a * b).Sum();
            Assert.True(cosine > 0.99, $"text {i}: cosine {cosine:F4} between the int8 and float vectors");
        }
    }

    [Fact]
    public void The_query_is_nearer_its_answer_than_an_unrelated_passage()
    {
        var vectors = Int8.Value.Encode(Texts[..3], CancellationToken.None);
        double Cosine(int a, int b) => vectors[a].Zip(vectors[b], (x, y) => (double)x * y).Sum();

        Assert.True(Cosine(0, 1) > Cosine(0, 2), $"answer {Cosine(0, 1):F3}, unrelated {Cosine(0, 2):F3}");
    }

    [Fact]
    public void A_text_longer_than_the_model_reads_is_cut_at_512_tokens_not_refused()
    {
        var huge = string.Join(' ', Enumerable.Repeat("PostgreSQL stores tables as heap files of fixed-size pages.", 2_000));

        var vectors = Int8.Value.Encode([huge, Texts[1]], CancellationToken.None);

        Assert.Equal(1.0, Math.Sqrt(vectors[0].Sum(x => (double)x * x)), 3);
        // Cut at 512 tokens, the long text equals its first 512 tokens' worth.
        var prefix = string.Join(' ', Enumerable.Repeat("PostgreSQL stores tables as heap files of fixed-size pages.", 60));
        var cut = Int8.Value.Encode([prefix], CancellationToken.None)[0];
        Assert.True(vectors[0].Zip(cut, (a, b) => (double)a * b).Sum() > 0.98);
    }

    [Fact]
    public void A_batch_gives_each_text_the_vector_it_gets_alone_whatever_the_lengths_and_order()
    {
        var alone = Texts.Select(t => Int8.Value.Encode([t], CancellationToken.None)[0]).ToArray();

        var together = Int8.Value.Encode(Texts.Reverse().ToArray(), CancellationToken.None).Reverse().ToArray();

        for (var i = 0; i < Texts.Length; i++)
        {
            var cosine = alone[i].Zip(together[i], (a, b) => (double)a * b).Sum();
            Assert.True(cosine > 0.999, $"text {i}: cosine {cosine:F5} between alone and in a padded batch");
        }
    }

    [Fact]
    public async Task Threads_encoding_at_once_get_the_vectors_each_text_gets_alone()
    {
        // The ingest threads and the queries share one tokenizer and one session, with no lock between them.
        var texts = Enumerable.Range(0, 24).Select(i => $"{Texts[i % Texts.Length]} Variant {i}: {new string('x', i * 7)} überprüft ﬁle naïve").ToArray();
        var alone = texts.Select(t => Int8.Value.Encode([t], CancellationToken.None)[0]).ToArray();
        using var start = new Barrier(4);

        var shares = await Task.WhenAll(Enumerable.Range(0, 4).Select(thread => Task.Factory.StartNew(
            () =>
            {
                start.SignalAndWait();
                return Enumerable.Range(0, 3).SelectMany(_ => Int8.Value.Encode(texts, CancellationToken.None).Select((v, i) => (i, v))).ToArray();
            },
            CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)));

        // A token read wrong moves a vector far more than this; identical ids give identical runs.
        foreach (var (i, vector) in shares.SelectMany(s => s))
        {
            var cosine = alone[i].Zip(vector, (a, b) => (double)a * b).Sum();
            Assert.True(cosine > 0.99999, $"text {i}: cosine {cosine:F6} between alone and on four threads at once");
        }
    }
}

/// <summary>Ingest embeds on threads the scheduler ranks below runs and requests.</summary>
public sealed class EmbeddingWorkersTests
{
    [Fact]
    public async Task Work_runs_on_idle_priority_threads_with_the_configured_nice_value()
    {
        using var workers = new EmbeddingWorkers(threads: 2, nice: 7);

        var seen = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => workers.RunAsync(CurrentThread, CancellationToken.None)));

        Assert.All(seen, s => Assert.Equal((7, SchedIdle), s));
        Assert.Equal(2, workers.Lowered);
        Assert.Equal((0, 0), CurrentThread()); // the test's own thread is untouched (nice 0, SCHED_OTHER)
    }

    private const int SchedIdle = 5;

    [Fact]
    public async Task A_failure_or_cancellation_reaches_the_caller_and_the_threads_keep_serving()
    {
        using var workers = new EmbeddingWorkers(threads: 1, nice: 0);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAsync<InvalidOperationException>(() => workers.RunAsync<int>(() => throw new InvalidOperationException("boom"), CancellationToken.None));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => workers.RunAsync(() => 1, cancelled.Token));
        Assert.Equal(42, await workers.RunAsync(() => 42, CancellationToken.None));
    }

    // Fields 19 and 41 of /proc/thread-self/stat are the calling thread's nice value and scheduling policy
    // (counted from 1, the parenthesised name being field 2).
    private static (int Nice, int Policy) CurrentThread()
    {
        var stat = File.ReadAllText("/proc/thread-self/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (int.Parse(fields[16], System.Globalization.CultureInfo.InvariantCulture), int.Parse(fields[38], System.Globalization.CultureInfo.InvariantCulture));
    }
}
