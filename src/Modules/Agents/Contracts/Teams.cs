namespace Conclave.Agents.Contracts;

/// <summary>
/// A team of agents that works a session's task: who is in it, how the next speaker is chosen and
/// when the run ends. Built-in templates have no owner; users own the teams they create or clone.
/// </summary>
public sealed record TeamDefinition
{
    public Guid Id { get; init; }

    /// <summary>The owning user; null for a built-in template (visible to everyone, read-only).</summary>
    public string? OwnerId { get; init; }

    public string Name { get; init; } = "";

    public string Description { get; init; } = "";

    public IReadOnlyList<AgentDefinition> Agents { get; init; } = [];

    public SpeakerSelection Selection { get; init; } = SpeakerSelection.RoundRobin;

    /// <summary>For <see cref="SpeakerSelection.ModelSelected"/>: extra instructions for the selector (the roster is added).</summary>
    public string? SelectorPrompt { get; init; }

    public TerminationRules Termination { get; init; } = new();

    public DateTimeOffset UpdatedAt { get; init; }

    public bool BuiltIn => OwnerId is null;
}

/// <summary>One member of a team.</summary>
/// <param name="Name">Unique in the team; letters, digits, '_' and '-' (it names the agent to the model and to handoff tools).</param>
/// <param name="Role">A short description shown to the other agents and the selector.</param>
/// <param name="Tools">Names of <see cref="IAgentTools.Available"/> tools; the system prompt lists exactly these.</param>
/// <param name="ProviderId">A provider of the team's owner; null means the installation's default provider.</param>
/// <param name="Model">The model name at the provider; null means the provider's default model.</param>
/// <param name="Color">A CSS hex colour (#rrggbb) for the agent's messages.</param>
/// <param name="AskFirst">Tools of <paramref name="Tools"/> whose calls wait for the user's approval (policy <see cref="ToolPolicy.Ask"/>).</param>
public sealed record AgentDefinition(
    string Name,
    string Role,
    string SystemPrompt,
    IReadOnlyList<string> Tools,
    Guid? ProviderId = null,
    string? Model = null,
    string Color = "#4f46e5",
    IReadOnlyList<string>? AskFirst = null)
{
    /// <summary>What happens when this agent calls <paramref name="tool"/>.</summary>
    public ToolPolicy PolicyOf(string tool) =>
        !Tools.Contains(tool) ? ToolPolicy.Deny
        : AskFirst?.Contains(tool) == true ? ToolPolicy.Ask
        : ToolPolicy.Auto;
}

/// <summary>An agent's policy for one tool.</summary>
public enum ToolPolicy
{
    /// <summary>Calls run at once.</summary>
    Auto,

    /// <summary>Each call waits for the run's owner to approve it (or to allow the tool for the rest of the session).</summary>
    Ask,

    /// <summary>The tool is not offered; a call of it gets the corrective answer for an unknown tool.</summary>
    Deny,
}

public enum SpeakerSelection
{
    /// <summary>The agents speak in roster order.</summary>
    RoundRobin,

    /// <summary>A selector prompt asks the model which agent speaks next.</summary>
    ModelSelected,

    /// <summary>An agent hands over by calling <c>transfer_to_&lt;agent&gt;</c>; without a handoff the same agent goes on.</summary>
    Handoff,
}

/// <summary>When a run ends; any rule that is met ends it, and the run's final event says which.</summary>
public sealed record TerminationRules
{
    /// <summary>A word that ends the run when an agent's message contains it (e.g. APPROVE, TERMINATE).</summary>
    public string? Keyword { get; init; }

    /// <summary>Only this agent's use of <see cref="Keyword"/> counts; null means any agent's.</summary>
    public string? KeywordAgent { get; init; }

    /// <summary>The run ends when an agent answers without calling a tool (single-agent teams).</summary>
    public bool EndOnAnswer { get; init; }

    /// <summary>Agent messages in one run.</summary>
    public int MaxTurns { get; init; } = 12;

    /// <summary>Prompt + completion tokens in one run; null means no limit.</summary>
    public long? MaxTokens { get; init; }

    /// <summary>Cost in US dollars of one run; null means no limit. Needs prices on the providers.</summary>
    public decimal? MaxCost { get; init; }

    /// <summary>Wall-clock time of one run; null means no limit.</summary>
    public TimeSpan? MaxDuration { get; init; }
}

/// <summary>Names of the tools a team adds by itself: <c>transfer_to_&lt;agent&gt;</c> in handoff teams.</summary>
public static class ToolNames
{
    public const string TransferPrefix = "transfer_to_";
}

/// <summary>
/// The tools an agent can be given, each as its one description has it. Aside: handoff tools, and
/// <c>search_knowledge</c>, which every agent of a run whose session or team has knowledge is offered.
/// </summary>
public interface IAgentTools
{
    /// <summary>In the order agents list them: the sandbox's, then those of every <see cref="IToolSource"/> open to everyone.</summary>
    IReadOnlyList<AgentTool> Available { get; }

    /// <summary>The tools <paramref name="ownerId"/>'s agents may be given (adds per-user sources' tools, e.g. MCP).</summary>
    IReadOnlyList<AgentTool> AvailableTo(string ownerId) => Available;
}

/// <param name="Source">Where the tool comes from ("Sandbox", "Web", "MCP: github").</param>
/// <param name="DefaultPolicy">What giving the tool to an agent sets: <see cref="ToolPolicy.Ask"/> adds it to ask-first.</param>
public sealed record AgentTool(string Name, string Description, string Source = "Sandbox", ToolPolicy DefaultPolicy = ToolPolicy.Auto);

/// <summary>The team a session runs with until the user picks one: the built-in Assistant.</summary>
public static class DefaultTeam
{
    public static readonly Guid Id = new("00000000-0000-7000-8000-00000000a551");
}

/// <summary>A user's teams and the built-in templates. Another user's team is not found.</summary>
public interface ITeams
{
    /// <summary>The built-in templates, then the owner's teams by name.</summary>
    Task<IReadOnlyList<TeamDefinition>> ListAsync(string ownerId, CancellationToken cancellationToken);

    Task<TeamDefinition?> FindAsync(string ownerId, Guid teamId, CancellationToken cancellationToken);

    Task<TeamDefinition> CreateAsync(string ownerId, TeamDefinition team, CancellationToken cancellationToken);

    Task<TeamDefinition> UpdateAsync(string ownerId, Guid teamId, TeamDefinition team, CancellationToken cancellationToken);

    /// <summary>Copies a team (a built-in template or the owner's own) into a new team of the owner's.</summary>
    Task<TeamDefinition> CloneAsync(string ownerId, Guid teamId, string? name, CancellationToken cancellationToken);

    Task DeleteAsync(string ownerId, Guid teamId, CancellationToken cancellationToken);
}

public sealed class TeamNotFoundException(Guid teamId) : Exception($"There is no team {teamId}.")
{
    public Guid TeamId { get; } = teamId;
}

/// <summary>A team that breaks a rule; nothing was changed. <see cref="Field"/> names the offending field.</summary>
public sealed class TeamValidationException(string field, string message) : Exception(message)
{
    public string Field { get; } = field;
}
