using System.Globalization;
using System.Text.RegularExpressions;

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
/// Numbers go on from <c>firstNumber</c> in hit order (a run's second search does not start at 1 again);
/// the model is told to cite them as [n]. Passages are cut at <see cref="KnowledgeToolDefinition.MaxPassageChars"/>
/// and the whole text stays under <see cref="KnowledgeToolDefinition.MaxResultChars"/>, like other tool results.
/// </summary>
public static partial class KnowledgePassages
{
    public const string NoResults = "No passages found in the knowledge available to this session.";

    /// <summary>What a passage cut at the limit ends with.</summary>
    public const string CutMark = " […]";

    public static IReadOnlyList<KnowledgeCitation> Cite(IReadOnlyList<KnowledgeHit> hits, int firstNumber = 1)
    {
        var citations = new List<KnowledgeCitation>();
        var length = 0;
        foreach (var hit in hits)
        {
            var citation = new KnowledgeCitation(
                firstNumber + citations.Count, hit.DocumentId, hit.DocumentName, hit.Page, hit.Heading, Bounded(hit.Passage));
            length += Entry(citation).Length + 2;
            if (length > KnowledgeToolDefinition.MaxResultChars)
            {
                break;
            }

            citations.Add(citation);
        }

        return citations;
    }

    public static string Format(IReadOnlyList<KnowledgeCitation> citations) =>
        citations.Count == 0 ? NoResults : string.Join("\n\n", citations.Select(Entry));

    /// <summary>"name, page 3", "name, section \"A › B\"" or just the name.</summary>
    public static string Source(KnowledgeCitation citation) => citation switch
    {
        { Page: { } page } => string.Create(CultureInfo.InvariantCulture, $"{citation.DocumentName}, page {page}"),
        { Heading: { Length: > 0 } heading } => $"{citation.DocumentName}, section \"{heading}\"",
        _ => citation.DocumentName,
    };

    public static KnowledgeToolResult ToToolResult(IReadOnlyList<KnowledgeHit> hits, int firstNumber = 1)
    {
        var citations = Cite(hits, firstNumber);
        return new KnowledgeToolResult(Format(citations), citations);
    }

    /// <summary>
    /// The passage numbers a text cites, in order of first appearance: [3], [1, 2], [1][2], [4-6]
    /// (a range of at most <see cref="MaxRange"/> numbers; a longer one is not a citation).
    /// </summary>
    public static IReadOnlyList<int> CitedNumbers(string text)
    {
        var numbers = new List<int>();
        foreach (Match marker in Marker().Matches(text))
        {
            foreach (var part in marker.Groups[1].Value.Split([',', ';'], StringSplitOptions.TrimEntries))
            {
                var range = part.Split(['-', '–'], StringSplitOptions.TrimEntries);
                var from = int.Parse(range[0], CultureInfo.InvariantCulture);
                var to = range.Length == 2 ? int.Parse(range[1], CultureInfo.InvariantCulture) : from;
                if (from < 1 || to < from || to - from >= MaxRange)
                {
                    continue;
                }

                for (var n = from; n <= to; n++)
                {
                    if (!numbers.Contains(n))
                    {
                        numbers.Add(n);
                    }
                }
            }
        }

        return numbers;
    }

    public const int MaxRange = 20;

    private static string Entry(KnowledgeCitation c) => string.Create(CultureInfo.InvariantCulture, $"[{c.Number}] {Source(c)}\n{c.Passage}");

    /// <summary>At most <see cref="KnowledgeToolDefinition.MaxPassageChars"/>, cut after a whole word when there is one near.</summary>
    private static string Bounded(string passage)
    {
        var max = KnowledgeToolDefinition.MaxPassageChars - CutMark.Length;
        if (passage.Length <= KnowledgeToolDefinition.MaxPassageChars)
        {
            return passage;
        }

        var cut = passage.LastIndexOf(' ', max);
        if (cut < max / 2)
        {
            cut = char.IsHighSurrogate(passage[max - 1]) ? max - 1 : max;
        }

        return passage[..cut].TrimEnd() + CutMark;
    }

    [GeneratedRegex(@"\[(\d{1,5}(?:\s*[,;–-]\s*\d{1,5})*)\]")]
    private static partial Regex Marker();
}

/// <summary>
/// The <c>search_knowledge(query, top_k)</c> tool as the Agents module registers it: its name,
/// description and JSON schema, whether a run is offered it, and the call that resolves what the run
/// may see and searches it.
/// </summary>
public interface IKnowledgeTool
{
    /// <summary>
    /// True when a collection visible to a run of <paramref name="teamId"/> in <paramref name="sessionId"/>
    /// holds at least one document that is not failed (ready, or on its way): only then is the tool offered.
    /// </summary>
    Task<bool> IsOfferedAsync(string ownerId, Guid sessionId, Guid? teamId, CancellationToken cancellationToken);

    /// <summary>
    /// Searches the collections visible to a run of <paramref name="teamId"/> in <paramref name="sessionId"/>
    /// (see <see cref="IKnowledgeCollections.VisibleAsync"/>), numbering the passages from <paramref name="firstNumber"/>.
    /// A session without documents gets <see cref="KnowledgePassages.NoResults"/>. Throws
    /// <see cref="KnowledgeValidationException"/> for an empty or over-long query (the agent's to fix).
    /// </summary>
    Task<KnowledgeToolResult> SearchAsync(
        string ownerId, Guid sessionId, Guid? teamId, string query, int topK, int firstNumber, CancellationToken cancellationToken);
}

public static class KnowledgeToolDefinition
{
    public const string Name = "search_knowledge";

    public const string Description =
        "Search the documents of this session and the libraries attached to it or to the team. " +
        "Returns numbered passages with their document and page or section; cite them as [n].";

    public const int DefaultTopK = 5;

    public const int MaxTopK = 20;

    /// <summary>A passage longer than this is cut (merged neighbouring chunks can be long).</summary>
    public const int MaxPassageChars = 3_000;

    /// <summary>The most text one call returns: passages that would not fit are left out.</summary>
    public const int MaxResultChars = 64 * 1024;

    /// <summary>What the system prompt of an agent offered the tool says about citing.</summary>
    public const string CitationInstructions =
        "When your answer uses passages from " + Name + ", cite each claim with the number of its passage in brackets " +
        "right after it, e.g. [1] or [2][3]. Numbers go on from one search to the next; cite only numbers you were given, " +
        "and say so when the passages do not answer the question.";

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
