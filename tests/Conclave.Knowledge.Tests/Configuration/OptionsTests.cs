using Conclave.Knowledge.Contracts;

namespace Conclave.Knowledge.Tests.Configuration;

/// <summary>Settings are checked at start-up; a bad one stops the Host with a message naming it.</summary>
public sealed class OptionsTests
{
    private static IReadOnlyList<string> Failures(Action<KnowledgeOptions> change)
    {
        var options = new KnowledgeOptions();
        change(options);
        return new KnowledgeOptionsValidator().Validate(null, options).Failures?.ToList() ?? [];
    }

    [Fact]
    public void The_defaults_are_valid() => Assert.Empty(Failures(_ => { }));

    [Fact]
    public void Each_bad_setting_is_named()
    {
        Assert.Contains(Failures(o => o.Chunking.OverlapTokens = o.Chunking.ChunkTokens), f => f.Contains("Chunking:OverlapTokens", StringComparison.Ordinal));
        Assert.Contains(Failures(o => o.Chunking.ChunkTokens = 600), f => f.Contains("Chunking:ChunkTokens", StringComparison.Ordinal));
        Assert.Contains(Failures(o => o.Limits.MaxPages = 0), f => f.Contains("Limits:MaxPages", StringComparison.Ordinal));
        Assert.Contains(Failures(o => o.Limits.MaxConcurrentIngests = 0), f => f.Contains("Limits:MaxConcurrentIngests", StringComparison.Ordinal));
        Assert.Contains(Failures(o => o.Embedding.Dimensions = 768), f => f.Contains("Embedding:Dimensions", StringComparison.Ordinal));
        Assert.Contains(Failures(o => o.Embedding.Provider = EmbeddingProvider.OpenAI), f => f.Contains("Embedding:Endpoint", StringComparison.Ordinal));
        Assert.Contains(Failures(o => o.Ingest.LeaseTimeout = o.Ingest.HeartbeatInterval), f => f.Contains("Ingest:LeaseTimeout", StringComparison.Ordinal));
        Assert.Empty(Failures(o =>
        {
            o.Embedding.Provider = EmbeddingProvider.OpenAI;
            o.Embedding.Endpoint = "https://embeddings.example/v1";
            o.Embedding.Model = "text-embedding-3-small";
            o.Embedding.Dimensions = 1536;
        }));
    }
}
