using Conclave.Knowledge.Contracts;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace Conclave.Knowledge.Embedding;

/// <summary>
/// The module's one way to embed: passages in batches, queries with the model's query instruction,
/// and at most <c>MaxConcurrency</c> calls at once in the process, so embedding (CPU-heavy) leaves
/// cores to the runs.
/// </summary>
internal sealed class KnowledgeEmbedder : IDisposable
{
    private readonly IEmbeddingGenerator<string, Embedding<float>> _generator;
    private readonly SemaphoreSlim _slots;
    private readonly string _queryPrefix;
    private readonly int _dimensions;

    public KnowledgeEmbedder(IEmbeddingGenerator<string, Embedding<float>> generator, IOptions<KnowledgeOptions> options)
    {
        var embedding = options.Value.Embedding;
        _generator = generator;
        _slots = new SemaphoreSlim(embedding.MaxConcurrency, embedding.MaxConcurrency);
        _queryPrefix = embedding.QueryPrefix ?? (embedding.Provider == EmbeddingProvider.Local ? LocalModel.QueryPrefix : "");
        _dimensions = embedding.Dimensions;
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

    public async Task<float[]> EmbedQueryAsync(string query, CancellationToken cancellationToken) =>
        (await EmbedPassagesAsync([_queryPrefix + query], cancellationToken))[0];

    private float[] Checked(float[] vector) => vector.Length == _dimensions
        ? vector
        : throw new InvalidOperationException(
            $"The embedding model returned {vector.Length} dimensions, but {KnowledgeOptions.Section}:Embedding:Dimensions is {_dimensions}.");

    public void Dispose() => _slots.Dispose();
}
