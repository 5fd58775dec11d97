using Conclave.Knowledge.Contracts;

namespace Conclave.Knowledge.Retrieval;

/// <summary>The <c>search_knowledge</c> tool: what the run may see, searched, as numbered passages with citations.</summary>
internal sealed class KnowledgeTool(IKnowledgeCollections collections, IKnowledgeSearch search) : IKnowledgeTool
{
    public async Task<KnowledgeToolResult> SearchAsync(string ownerId, Guid sessionId, Guid? teamId, string query, int topK, CancellationToken cancellationToken)
    {
        var visible = await collections.VisibleAsync(ownerId, sessionId, teamId, cancellationToken);
        if (visible.Count == 0)
        {
            return new KnowledgeToolResult(KnowledgePassages.NoResults, []);
        }

        var hits = await search.SearchAsync(
            new KnowledgeQuery(ownerId, visible, query, Math.Clamp(topK, 1, KnowledgeToolDefinition.MaxTopK)), cancellationToken);
        return KnowledgePassages.ToToolResult(hits);
    }
}
