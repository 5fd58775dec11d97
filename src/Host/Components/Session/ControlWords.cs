using System.Text.RegularExpressions;
using Conclave.Agents.Contracts;

namespace Conclave.Host.Components.Session;

/// <summary>
/// Words agents say to steer the run rather than to the reader (a team's termination keyword such as
/// TERMINATE or APPROVE). The timeline hides them; the log keeps them. The word counts as the run's
/// termination check reads it: on its own, case-sensitive, from the agent allowed to say it.
/// </summary>
internal sealed partial record ControlWords(string Keyword, string? KeywordAgent)
{
    /// <summary>The team's control words; null when it has none (or the snapshot cannot be read).</summary>
    public static ControlWords? Of(string? teamSnapshot)
    {
        try
        {
            return TeamSnapshot.Read(teamSnapshot)?.Termination is { Keyword: { Length: > 0 } keyword } rules
                ? new ControlWords(keyword, rules.KeywordAgent)
                : null;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    /// <summary>The text as shown: the keyword, with a full stop or exclamation mark right after it, taken out.</summary>
    public string Hide(string agent, string text)
    {
        if (KeywordAgent is not null && KeywordAgent != agent || !text.Contains(Keyword, StringComparison.Ordinal))
        {
            return text;
        }

        var hidden = Regex.Replace(text, $@"(?<!\w){Regex.Escape(Keyword)}(?!\w)[.!]?", "", RegexOptions.None, TimeSpan.FromSeconds(1));
        return TrailingSpace().Replace(hidden, "\n").TrimStart('\r', '\n').TrimEnd();
    }

    [GeneratedRegex(@"[ \t]+\n")]
    private static partial Regex TrailingSpace();
}
