using Conclave.Knowledge.Contracts;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace Conclave.Knowledge.Embedding;

/// <summary>
/// The module's one way to embed: passages in batches (at most <c>MaxConcurrency</c> calls at once in
/// the process), and queries with the model's query instruction, which never wait for those.
/// </summary>
internal sealed class KnowledgeEmbedder : IDisposable
{
    private readonly IEmbeddingGenerator<string, Embedding<float>> _generator;
    private readonly SemaphoreSlim _slots;
    private readonly string _queryPrefix;
    private readonly int _dimensions;
    private readonly EmbeddingGenerationOptions? _queryOptions;

    public KnowledgeEmbedder(IEmbeddingGenerator<string, Embedding<float>> generator, IOptions<KnowledgeOptions> options)
    {
        var embedding = options.Value.Embedding;
        _generator = generator;
        _slots = new SemaphoreSlim(embedding.MaxConcurrency, embedding.MaxConcurrency);
        _queryPrefix = embedding.QueryPrefix ?? (embedding.Provider == EmbeddingProvider.Local ? LocalModel.QueryPrefix : "");
        _dimensions = embedding.Dimensions;
        // Only the local model knows the marker; an endpoint is not sent properties it does not expect.
        _queryOptions = embedding.Provider == EmbeddingProvider.Local
            ? new EmbeddingGenerationOptions { AdditionalProperties = new() { [ArcticEmbeddingGenerator.Interactive] = true } }
            : null;
        BatchSize = embedding.BatchSize;
    }

    public int BatchSize { get; }

    public IEmbeddingGenerator<string, Embedding<float>> Generator => _generator;

    public async Task<float[][]> EmbedPassagesAsync(IReadOnlyList<string> passages, CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken);
        try
        {
            var embeddings = await _generator.GenerateAsync(passages, cancellationToken: cancellationToken);
            return embeddings.Select(e => Checked(e.Vector.ToArray())).ToArray();
        }
        finally
        {
            _slots.Release();
        }
    }

    /// <summary>A query someone waits for: not queued behind ingest batches, and at normal priority.</summary>
    public async Task<float[]> EmbedQueryAsync(string query, CancellationToken cancellationToken)
    {
        var embeddings = await _generator.GenerateAsync([_queryPrefix + query], _queryOptions, cancellationToken);
        return Checked(embeddings[0].Vector.ToArray());
    }

    private float[] Checked(float[] vector) => vector.Length == _dimensions
        ? vector
        : throw new InvalidOperationException(
            $"The embedding model returned {vector.Length} dimensions, but {KnowledgeOptions.Section}:Embedding:Dimensions is {_dimensions}.");

    public void Dispose() => _slots.Dispose();
}
