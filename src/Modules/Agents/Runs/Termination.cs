using System.Text.RegularExpressions;
using Conclave.Agents.Contracts;
using Conclave.Sessions.Contracts;

namespace Conclave.Agents.Runs;

/// <summary>
/// When a run ends: from the team, where the run stands and the time, either the event that ends it
/// or null to go on. Pure: the same log gives the same answer on any node. A new rule or limit is one
/// more entry in <see cref="Rules"/>.
/// </summary>
internal static class Termination
{
    /// <summary>A rule: the reason the run ends (null for "its work is done"), or <see cref="GoOn"/>.</summary>
    private delegate Ending? Rule(TeamDefinition team, RunLimits limits, RunState state, DateTimeOffset now);

    private sealed record Ending(string? Reason, string Kind);

    private static readonly Ending? GoOn = null;

    /// <summary>Checked in order; the first rule met ends the run and gives its reason.</summary>
    private static readonly Rule[] Rules =
    [
        // The keyword, in an answer that called no tools, from the agent allowed to say it.
        (team, _, state, _) => state.LastAnswer is { } answer && !state.LastMessageCalledTools
            && team.Termination is { Keyword: { Length: > 0 } keyword } rules && (rules.KeywordAgent is null || rules.KeywordAgent == answer.Agent)
            && ContainsWord(answer.Text, keyword)
                ? new Ending($"{answer.Agent} said {keyword}.", "keyword")
                : GoOn,

        // An answer that ends the work: the team says so, a handoff team's agent answered without handing over,
        // or the only agent answered and no keyword is awaited.
        (team, _, state, _) => state.LastAnswer is not null && !state.LastMessageCalledTools
            && (team.Termination.EndOnAnswer
                || team.Selection == SpeakerSelection.Handoff && state.HandoffTo is null
                || team.Agents.Count == 1 && team.Termination.Keyword is null)
                ? new Ending(null, "answer")
                : GoOn,

        (_, limits, state, _) => state.Turns >= limits.MaxTurns
            ? new Ending($"Reached the limit of {limits.MaxTurns} turns.", "max_turns")
            : GoOn,

        (_, limits, state, _) => limits.MaxTokens is { } max && state.Usage.TotalTokens >= max
            ? new Ending($"Reached the token limit: {state.Usage.TotalTokens:N0} tokens used of {max:N0}.", "max_tokens")
            : GoOn,

        // Only known cost counts: a run with a cost limit does not start on providers without prices (RunLoop).
        (_, limits, state, _) => limits.MaxCost is { } max && state.Usage.KnownCost >= max
            ? new Ending($"Reached the cost limit: ${state.Usage.KnownCost:0.####} spent of ${max:0.####}.", "max_cost")
            : GoOn,

        (_, limits, state, now) => limits.MaxDuration is { } max && state.ActiveTime(now) >= max
            ? new Ending($"Reached the time limit of {max}.", "max_duration")
            : GoOn,
    ];

    /// <summary>The event that ends the run now, or null when it goes on.</summary>
    public static RunCompleted? Check(TeamDefinition team, RunState state, DateTimeOffset now) => Decide(team, state, now)?.Completed;

    /// <summary>As <see cref="Check"/>, with the rule that ended the run as a short label (keyword, answer, max_turns, ...).</summary>
    public static (RunCompleted Completed, string Kind)? Decide(TeamDefinition team, RunState state, DateTimeOffset now)
    {
        var limits = RunLimits.Of(team.Termination, state.Limits);
        foreach (var rule in Rules)
        {
            if (rule(team, limits, state, now) is { } ending)
            {
                return (new RunCompleted(state.RunId, now, ending.Reason), ending.Kind);
            }
        }

        return null;
    }

    /// <summary>The word on its own (not inside another word), case-sensitive.</summary>
    public static bool ContainsWord(string text, string word) =>
        Regex.IsMatch(text, $@"(?<![\w]){Regex.Escape(word)}(?![\w])");
}

/// <summary>The limits a run keeps to: the run's own overrides, else the team's.</summary>
internal sealed record RunLimits(int MaxTurns, long? MaxTokens, decimal? MaxCost, TimeSpan? MaxDuration)
{
    public static RunLimits Of(TerminationRules team, RunOverrides? run) => new(
        run?.MaxTurns ?? team.MaxTurns,
        run?.MaxTokens ?? team.MaxTokens,
        run?.MaxCost ?? team.MaxCost,
        run?.MaxDuration ?? team.MaxDuration);
}
