using Conclave.Agents.Contracts;

namespace Conclave.Host.Components.Teams;

/// <summary>The team editor's mutable copy of a team; the store validates what it turns into.</summary>
internal sealed class TeamForm
{
    public string Name { get; set; } = "";
    public string Description { get; set; } = "";
    public SpeakerSelection Selection { get; set; } = SpeakerSelection.RoundRobin;
    public string? SelectorPrompt { get; set; }
    public string? Keyword { get; set; }
    public string? KeywordAgent { get; set; }
    public bool EndOnAnswer { get; set; }
    public int MaxTurns { get; set; } = 12;
    public long? MaxTokens { get; set; }
    public decimal? MaxCost { get; set; }
    public double? MaxDurationMinutes { get; set; }
    public List<AgentForm> Agents { get; } = [];

    public static TeamForm New()
    {
        var form = new TeamForm();
        form.Agents.Add(new AgentForm { Name = "Assistant", Role = "A helpful generalist", SystemPrompt = "You are Assistant, a helpful AI agent." });
        return form;
    }

    public static TeamForm From(TeamDefinition team)
    {
        var form = new TeamForm
        {
            Name = team.Name,
            Description = team.Description,
            Selection = team.Selection,
            SelectorPrompt = team.SelectorPrompt,
            Keyword = team.Termination.Keyword,
            KeywordAgent = team.Termination.KeywordAgent,
            EndOnAnswer = team.Termination.EndOnAnswer,
            MaxTurns = team.Termination.MaxTurns,
            MaxTokens = team.Termination.MaxTokens,
            MaxCost = team.Termination.MaxCost,
            MaxDurationMinutes = team.Termination.MaxDuration?.TotalMinutes,
        };
        form.Agents.AddRange(team.Agents.Select(AgentForm.From));
        return form;
    }

    /// <param name="tools">The tools agents can have, in the order an agent lists them.</param>
    public TeamDefinition ToDefinition(IReadOnlyList<string> tools) => new()
    {
        Name = Name,
        Description = Description,
        Selection = Selection,
        SelectorPrompt = string.IsNullOrWhiteSpace(SelectorPrompt) ? null : SelectorPrompt,
        Agents = Agents.Select(a => a.ToDefinition(tools)).ToList(),
        Termination = new TerminationRules
        {
            Keyword = Keyword,
            KeywordAgent = string.IsNullOrWhiteSpace(KeywordAgent) ? null : KeywordAgent,
            EndOnAnswer = EndOnAnswer,
            MaxTurns = MaxTurns,
            MaxTokens = MaxTokens,
            MaxCost = MaxCost,
            // Out-of-range values are passed on as given (clamped only to what TimeSpan holds) so the store names the field.
            MaxDuration = MaxDurationMinutes is { } minutes ? TimeSpan.FromMinutes(Math.Clamp(minutes, -1, 10_000_000)) : null,
        },
    };
}

internal sealed class AgentForm
{
    private static readonly string[] Palette = ["#4f46e5", "#0891b2", "#16a34a", "#dc2626", "#9333ea", "#ea580c", "#0d9488", "#db2777"];

    /// <summary>Keeps each agent's inputs in place while agents are added, removed and moved.</summary>
    public Guid Key { get; } = Guid.NewGuid();
    public string Name { get; set; } = "";
    public string Role { get; set; } = "";
    public string SystemPrompt { get; set; } = "";
    public HashSet<string> Tools { get; } = [];

    /// <summary>Tools whose calls wait for the user's approval (only those in <see cref="Tools"/> count).</summary>
    public HashSet<string> AskFirst { get; } = [];

    /// <summary>"" means the installation's default provider.</summary>
    public string ProviderId { get; set; } = "";
    public string? Model { get; set; }
    public string Color { get; set; } = Palette[0];

    public static AgentForm Next(int index) => new() { Name = $"Agent{index + 1}", Color = Palette[index % Palette.Length] };

    public static AgentForm From(AgentDefinition agent)
    {
        var form = new AgentForm
        {
            Name = agent.Name,
            Role = agent.Role,
            SystemPrompt = agent.SystemPrompt,
            ProviderId = agent.ProviderId?.ToString() ?? "",
            Model = agent.Model,
            Color = agent.Color,
        };
        form.Tools.UnionWith(agent.Tools);
        form.AskFirst.UnionWith(agent.AskFirst ?? []);
        return form;
    }

    public AgentDefinition ToDefinition(IReadOnlyList<string> tools) => new(
        Name,
        Role,
        SystemPrompt,
        tools.Where(Tools.Contains).ToList(),
        Guid.TryParse(ProviderId, out var id) ? id : null,
        string.IsNullOrWhiteSpace(Model) ? null : Model,
        Color,
        tools.Where(t => Tools.Contains(t) && AskFirst.Contains(t)).ToList() is { Count: > 0 } ask ? ask : null);
}
