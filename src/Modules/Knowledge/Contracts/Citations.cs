using System.Globalization;
using System.Text;

namespace Conclave.Knowledge.Contracts;

/// <summary>
/// A passage an answer may cite, kept with the agent message that used it. <see cref="Number"/> is
/// the [n] the model saw in the numbered passages.
/// </summary>
public sealed record KnowledgeCitation(int Number, Guid DocumentId, string DocumentName, int? Page, string? Heading, string Passage);

/// <summary>What the <c>search_knowledge</c> tool returns: the text the model reads and the citations behind its numbers.</summary>
public sealed record KnowledgeToolResult(string Text, IReadOnlyList<KnowledgeCitation> Citations);

/// <summary>
/// The numbered-passages format the model reads:
/// <code>
/// [1] manual.pdf, page 3
/// passage text
///
/// [2] notes.md, section "Setup › Install"
/// passage text
/// </code>
/// Numbers start at 1 in hit order; the model is told to cite them as [n].
/// </summary>
public static class KnowledgePassages
{
    public const string NoResults = "No passages found in the knowledge available to this session.";

    public static IReadOnlyList<KnowledgeCitation> Cite(IReadOnlyList<KnowledgeHit> hits) =>
        hits.Select((h, i) => new KnowledgeCitation(i + 1, h.DocumentId, h.DocumentName, h.Page, h.Heading, h.Passage)).ToList();

    public static string Format(IReadOnlyList<KnowledgeCitation> citations)
    {
        if (citations.Count == 0)
        {
            return NoResults;
        }

        var text = new StringBuilder();
        foreach (var c in citations)
        {
            if (text.Length > 0)
            {
                text.Append("\n\n");
            }

            text.Append(CultureInfo.InvariantCulture, $"[{c.Number}] {Source(c)}\n{c.Passage}");
        }

        return text.ToString();
    }

    /// <summary>"name, page 3", "name, section \"A › B\"" or just the name.</summary>
    public static string Source(KnowledgeCitation citation) => citation switch
    {
        { Page: { } page } => string.Create(CultureInfo.InvariantCulture, $"{citation.DocumentName}, page {page}"),
        { Heading: { Length: > 0 } heading } => $"{citation.DocumentName}, section \"{heading}\"",
        _ => citation.DocumentName,
    };

    public static KnowledgeToolResult ToToolResult(IReadOnlyList<KnowledgeHit> hits)
    {
        var citations = Cite(hits);
        return new KnowledgeToolResult(Format(citations), citations);
    }
}

/// <summary>
/// The <c>search_knowledge(query, top_k)</c> tool as the Agents module registers it: its name,
/// description and JSON schema, and the call that resolves what the run may see and searches it.
/// </summary>
public interface IKnowledgeTool
{
    /// <summary>
    /// Searches the collections visible to a run of <paramref name="teamId"/> in <paramref name="sessionId"/>
    /// (see <see cref="IKnowledgeCollections.VisibleAsync"/>). A session without documents gets <see cref="KnowledgePassages.NoResults"/>.
    /// </summary>
    Task<KnowledgeToolResult> SearchAsync(string ownerId, Guid sessionId, Guid? teamId, string query, int topK, CancellationToken cancellationToken);
}

public static class KnowledgeToolDefinition
{
    public const string Name = "search_knowledge";

    public const string Description =
        "Search the documents of this session and the libraries attached to it or to the team. " +
        "Returns numbered passages with their document and page or section; cite them as [n].";

    public const int DefaultTopK = 5;

    public const int MaxTopK = 20;

    /// <summary>The parameters' JSON schema.</summary>
    public const string ParametersSchema = """
        {
          "type": "object",
          "properties": {
            "query": { "type": "string", "description": "What to look for, in natural language or keywords." },
            "top_k": { "type": "integer", "minimum": 1, "maximum": 20, "default": 5, "description": "How many passages to return." }
          },
          "required": ["query"]
        }
        """;
}
