using Conclave.Knowledge.Contracts;
using Conclave.Knowledge.Storage;
using Npgsql;

namespace Conclave.Knowledge.Retrieval;

/// <summary>The <c>search_knowledge</c> tool: what the run may see, searched, as numbered passages with citations.</summary>
internal sealed class KnowledgeTool(IKnowledgeCollections collections, IKnowledgeSearch search, KnowledgeDatabase database) : IKnowledgeTool
{
    public async Task<bool> IsOfferedAsync(string ownerId, Guid sessionId, Guid? teamId, CancellationToken cancellationToken)
    {
        var visible = await collections.VisibleAsync(ownerId, sessionId, teamId, cancellationToken);
        if (visible.Count == 0)
        {
            return false;
        }

        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            "SELECT EXISTS (SELECT 1 FROM knowledge.documents WHERE owner_id = @owner AND collection_id = ANY(@collections) AND state <> 'Failed')",
            connection);
        command.Parameters.AddWithValue("owner", ownerId);
        command.Parameters.AddWithValue("collections", visible.ToArray());
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    public async Task<KnowledgeToolResult> SearchAsync(
        string ownerId, Guid sessionId, Guid? teamId, string query, int topK, int firstNumber, CancellationToken cancellationToken)
    {
        var visible = await collections.VisibleAsync(ownerId, sessionId, teamId, cancellationToken);
        if (visible.Count == 0)
        {
            return new KnowledgeToolResult(KnowledgePassages.NoResults, []);
        }

        var hits = await search.SearchAsync(
            new KnowledgeQuery(ownerId, visible, query, Math.Clamp(topK, 1, KnowledgeToolDefinition.MaxTopK)), cancellationToken);
        return KnowledgePassages.ToToolResult(hits, Math.Max(1, firstNumber));
    }
}
