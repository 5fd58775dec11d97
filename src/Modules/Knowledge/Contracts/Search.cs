namespace Conclave.Knowledge.Contracts;

public enum RetrievalMode
{
    /// <summary>Vector and full-text search fused by reciprocal rank (the default).</summary>
    Hybrid,

    /// <summary>Nearest neighbours of the query's embedding only.</summary>
    Vector,

    /// <summary>PostgreSQL full-text search only.</summary>
    FullText,
}

/// <param name="CollectionIds">The collections to search; the owner's own only (others' match nothing).</param>
/// <param name="TopK">Passages to return, 1 to 50.</param>
public sealed record KnowledgeQuery(
    string OwnerId,
    IReadOnlyList<Guid> CollectionIds,
    string Text,
    int TopK = 5,
    RetrievalMode Mode = RetrievalMode.Hybrid);

/// <summary>One passage found: adjacent overlapping chunks of a document are merged into one hit.</summary>
/// <param name="Page">The PDF page the passage starts on; null for kinds without pages.</param>
/// <param name="Heading">The heading path of the section (e.g. "Indexes › Index Types"), when the document has headings.</param>
/// <param name="Score">Reciprocal-rank-fusion score (hybrid), cosine similarity (vector) or text rank (full text); higher is better.</param>
/// <param name="ChunkOrdinals">The chunks of the document the passage is made of, in order.</param>
public sealed record KnowledgeHit(
    Guid DocumentId,
    string DocumentName,
    Guid CollectionId,
    int? Page,
    string? Heading,
    string Passage,
    double Score,
    IReadOnlyList<int> ChunkOrdinals);

/// <summary>Hybrid retrieval over an owner's collections; the Agents module's <c>search_knowledge</c> tool calls it.</summary>
public interface IKnowledgeSearch
{
    /// <summary>Throws <see cref="KnowledgeValidationException"/> for an empty or over-long query or a TopK out of range.</summary>
    Task<IReadOnlyList<KnowledgeHit>> SearchAsync(KnowledgeQuery query, CancellationToken cancellationToken);
}
