using System.Text.RegularExpressions;
using Conclave.Agents.Contracts;
using Conclave.Agents.Tools;

namespace Conclave.Agents.Teams;

/// <summary>
/// What a stored team must satisfy. Returns the team cleaned up (trimmed, colours lower-cased,
/// duplicate tools dropped) or throws <see cref="TeamValidationException"/> naming the field.
/// </summary>
internal static partial class TeamRules
{
    [GeneratedRegex(TeamLimits.AgentNamePattern)]
    private static partial Regex AgentName();

    [GeneratedRegex("^#[0-9a-fA-F]{6}$")]
    private static partial Regex HexColour();

    /// <param name="tools">The tools the owner's agents may have; null means the sandbox's only.</param>
    public static TeamDefinition Validate(TeamDefinition team, IReadOnlySet<Guid> ownerProviders, IReadOnlySet<string>? tools = null)
    {
        var name = Text(team.Name, "name", "The team's name", TeamLimits.MaxNameLength, required: true)!;
        var description = Text(team.Description, "description", "The description", TeamLimits.MaxDescriptionLength, required: false, multiline: true) ?? "";
        if (!Enum.IsDefined(team.Selection))
        {
            Fail("selection", $"Pick a speaker selection: {string.Join(", ", Enum.GetNames<SpeakerSelection>())}.");
        }

        var agents = Agents(team.Agents, ownerProviders, tools ?? ToolRegistry.Names.ToHashSet(StringComparer.Ordinal));
        if (team.Selection == SpeakerSelection.Handoff && agents.Count < 2)
        {
            Fail("selection", "Handoff needs at least two agents to hand over between.");
        }

        var selectorPrompt = Text(team.SelectorPrompt, "selectorPrompt", "The selector prompt", TeamLimits.MaxSelectorPromptLength, required: false, multiline: true);
        var termination = Termination(team.Termination ?? new TerminationRules(), agents);
        return team with
        {
            Name = name,
            Description = description,
            Agents = agents,
            SelectorPrompt = selectorPrompt,
            Termination = termination,
        };
    }

    private static List<AgentDefinition> Agents(IReadOnlyList<AgentDefinition>? agents, IReadOnlySet<Guid> ownerProviders, IReadOnlySet<string> known)
    {
        if (agents is null || agents.Count == 0)
        {
            Fail("agents", "A team needs at least one agent.");
        }
        if (agents.Count > TeamLimits.MaxAgents)
        {
            Fail("agents", $"A team can have at most {TeamLimits.MaxAgents} agents.");
        }

        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var cleaned = new List<AgentDefinition>(agents.Count);
        for (var i = 0; i < agents.Count; i++)
        {
            var field = $"agents[{i}]";
            var agent = agents[i] ?? Fail<AgentDefinition>(field, $"Agent {i + 1} is empty.");
            var agentName = agent.Name?.Trim() ?? "";
            if (!AgentName().IsMatch(agentName))
            {
                Fail($"{field}.name",
                    $"Agent {i + 1}'s name must start with a letter and have at most {TeamLimits.MaxAgentNameLength} letters, digits, '_' or '-' (no spaces).");
            }
            if (!names.Add(agentName))
            {
                Fail($"{field}.name", $"There is already an agent named {agentName}; each agent needs its own name.");
            }

            var role = Text(agent.Role, $"{field}.role", $"{agentName}'s role", TeamLimits.MaxRoleLength, required: false) ?? "";
            var prompt = Text(agent.SystemPrompt, $"{field}.systemPrompt", $"{agentName}'s system prompt", TeamLimits.MaxSystemPromptLength, required: true, multiline: true)!;
            var tools = (agent.Tools ?? []).Distinct(StringComparer.Ordinal).ToList();
            if (tools.FirstOrDefault(t => !known.Contains(t)) is { } unknown)
            {
                Fail($"{field}.tools", $"{agentName} has an unknown tool \"{Shorten(unknown)}\"; the tools are {string.Join(", ", known)}.");
            }
            if (agent.ProviderId is { } providerId && !ownerProviders.Contains(providerId))
            {
                Fail($"{field}.providerId", $"{agentName}'s provider does not exist; pick one of your providers or the default.");
            }

            var model = Text(agent.Model, $"{field}.model", $"{agentName}'s model", TeamLimits.MaxModelLength, required: false);
            var colour = agent.Color?.Trim() ?? "";
            if (!HexColour().IsMatch(colour))
            {
                Fail($"{field}.color", $"{agentName}'s colour must be a hex colour like #4f46e5.");
            }

            var askFirst = (agent.AskFirst ?? []).Distinct(StringComparer.Ordinal).ToList();
            if (askFirst.FirstOrDefault(t => !tools.Contains(t)) is { } notGiven)
            {
                Fail($"{field}.askFirst",
                    $"{agentName} asks before \"{Shorten(notGiven)}\", a tool it does not have; give it the tool, or leave it out of askFirst.");
            }

            cleaned.Add(new AgentDefinition(agentName, role, prompt, tools, agent.ProviderId, model, colour.ToLowerInvariant(), askFirst.Count == 0 ? null : askFirst));
        }

        return cleaned;
    }

    private static TerminationRules Termination(TerminationRules rules, List<AgentDefinition> agents)
    {
        var keyword = Text(rules.Keyword, "termination.keyword", "The keyword", TeamLimits.MaxKeywordLength, required: false);
        var keywordAgent = string.IsNullOrWhiteSpace(rules.KeywordAgent) ? null : rules.KeywordAgent.Trim();
        if (keywordAgent is not null)
        {
            if (keyword is null)
            {
                Fail("termination.keyword", "Give the keyword the agent must say to end the run, or clear the keyword agent.");
            }
            keywordAgent = agents.FirstOrDefault(a => string.Equals(a.Name, keywordAgent, StringComparison.OrdinalIgnoreCase))?.Name
                ?? Fail<string>("termination.keywordAgent", $"The keyword agent \"{Shorten(keywordAgent)}\" is not a member of the team.");
        }
        if (rules.MaxTurns is < 1 or > TeamLimits.MaxTurns)
        {
            Fail("termination.maxTurns", $"Max turns must be between 1 and {TeamLimits.MaxTurns}.");
        }
        if (rules.MaxTokens is { } tokens && tokens is < 1 or > TeamLimits.MaxTokens)
        {
            Fail("termination.maxTokens", $"Max tokens must be between 1 and {TeamLimits.MaxTokens:N0}, or empty for no limit.");
        }
        if (rules.MaxCost is { } cost && (cost <= 0 || cost > TeamLimits.MaxCost))
        {
            Fail("termination.maxCost", $"Max cost must be more than 0 and at most {TeamLimits.MaxCost:N0} US dollars, or empty for no limit.");
        }
        if (rules.MaxDuration is { } duration && (duration < TimeSpan.FromSeconds(1) || duration > TeamLimits.MaxDuration))
        {
            Fail("termination.maxDuration", "Max duration must be between 1 second and 24 hours, or empty for no limit.");
        }

        return rules with { Keyword = keyword, KeywordAgent = keywordAgent };
    }

    /// <summary>Trimmed text within bounds; null when empty and not required.</summary>
    private static string? Text(string? value, string field, string label, int maxLength, bool required, bool multiline = false)
    {
        // Prompts keep their layout; one-line values are trimmed.
        var text = multiline ? value : value?.Trim();
        if (string.IsNullOrWhiteSpace(text))
        {
            return required ? Fail<string>(field, $"{label} is required.") : null;
        }
        if (text.Length > maxLength)
        {
            Fail(field, $"{label} can have at most {maxLength} characters (it has {text.Length}).");
        }
        if (text.Any(c => char.IsControl(c) && !(multiline && c is '\n' or '\r' or '\t')))
        {
            Fail(field, multiline ? $"{label} contains control characters." : $"{label} must be one line without control characters.");
        }

        return text;
    }

    private static string Shorten(string value) => value.Length <= 40 ? value : value[..40] + "…";

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void Fail(string field, string message) => throw new TeamValidationException(field, message);

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static T Fail<T>(string field, string message) => throw new TeamValidationException(field, message);
}
