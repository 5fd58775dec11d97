using System.ClientModel;
using Conclave.Knowledge.Contracts;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenAI;

namespace Conclave.Knowledge.Embedding;

internal static class EmbeddingSetup
{
    /// <summary>The configured embedder: the local model, or an OpenAI-compatible endpoint.</summary>
    public static IEmbeddingGenerator<string, Embedding<float>> Create(KnowledgeEmbeddingOptions options)
    {
        if (options.Provider == EmbeddingProvider.Local)
        {
            var threads = options.Threads > 0 ? options.Threads : Environment.ProcessorCount;
            return new ArcticEmbeddingGenerator(threads, options.Nice, options.Int8);
        }

        var client = new OpenAIClient(
            new ApiKeyCredential(string.IsNullOrEmpty(options.ApiKey) ? "none" : options.ApiKey),
            new OpenAIClientOptions { Endpoint = new Uri(options.Endpoint!) });
        return client.GetEmbeddingClient(options.Model!).AsIEmbeddingGenerator(options.Dimensions);
    }
}

/// <summary>
/// An embeddings endpoint is asked once at start-up, so a model of another size (or an endpoint that
/// does not answer) stops the Host with a clear message instead of failing every document. The local
/// model is not loaded here: it loads on first use.
/// </summary>
internal sealed class EmbeddingDimensionCheck(KnowledgeEmbedder embedder, IOptions<KnowledgeOptions> options, ILogger<EmbeddingDimensionCheck> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var embedding = options.Value.Embedding;
        if (embedding.Provider == EmbeddingProvider.Local)
        {
            return;
        }

        float[] vector;
        try
        {
            var generated = await embedder.Generator.GenerateAsync(["dimension check"], cancellationToken: cancellationToken);
            vector = generated[0].Vector.ToArray();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new InvalidOperationException(
                $"The embeddings endpoint {embedding.Endpoint} (model {embedding.Model}) did not answer a test request: {e.Message}. " +
                $"Check {KnowledgeOptions.Section}:Embedding.", e);
        }

        if (vector.Length != embedding.Dimensions)
        {
            throw new InvalidOperationException(
                $"The embedding model {embedding.Model} makes {vector.Length}-dimensional vectors, but {KnowledgeOptions.Section}:Embedding:Dimensions is {embedding.Dimensions}. Set it to {vector.Length}.");
        }

        logger.LogInformation("Embeddings endpoint {Endpoint} answers with {Dimensions} dimensions", embedding.Endpoint, vector.Length);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
