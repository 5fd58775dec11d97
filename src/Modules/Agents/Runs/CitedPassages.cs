using Conclave.Knowledge.Contracts;
using Conclave.Sessions.Contracts;

namespace Conclave.Agents.Runs;

/// <summary>Which of the passages given in the session an agent's message cites: its [n] markers that name one.</summary>
internal static class CitedPassages
{
    /// <summary>In number order, at most <see cref="MessageCited.MaxCitations"/> (the first cited win); numbers no passage has are left out.</summary>
    public static IReadOnlyList<Citation> Of(string text, IReadOnlyDictionary<int, Citation> passages)
    {
        if (passages.Count == 0 || text.Length == 0)
        {
            return [];
        }

        return
        [
            .. KnowledgePassages.CitedNumbers(text)
                .Where(passages.ContainsKey)
                .Take(MessageCited.MaxCitations)
                .Order()
                .Select(n => passages[n]),
        ];
    }
}
