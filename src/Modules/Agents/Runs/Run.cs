using Conclave.Agents.Contracts;
using Conclave.Agents.Providers;
using Conclave.Agents.Tools;
using Conclave.Sessions.Contracts;
using Microsoft.SemanticKernel.ChatCompletion;

namespace Conclave.Agents.Runs;

/// <summary>
/// One execution of a run on this node: its request, the session history as far as read, where the
/// run stands (kept up to date with every event it appends or reads), its team, and what is resolved
/// once per execution rather than once per step (providers, tools, model clients).
/// </summary>
internal sealed class Run(RunRequested request, IReadOnlyList<SessionEvent> history, ISessionLog log)
{
    private readonly List<SessionEvent> _history = [.. history];
    private readonly Dictionary<string, AgentToolbox> _toolboxes = [];
    private readonly Dictionary<ResolvedProvider, IChatCompletionService> _models = [];
    private readonly Dictionary<string, ResolvedProvider> _providers = [];

    public Guid SessionId => request.SessionId;

    public Guid RunId => request.RunId;

    public string OwnerId => string.IsNullOrEmpty(State.OwnerId) ? request.OwnerId : State.OwnerId;

    public IReadOnlyList<SessionEvent> History => _history;

    public RunState State { get; } = RunState.From(history, request.RunId);

    /// <summary>Known once the run has started (or resumed) on this node.</summary>
    public TeamDefinition Team { get; set; } = null!;

    /// <summary>Set at the start of each execution when the session or team has knowledge: its agents are offered <c>search_knowledge</c>.</summary>
    public RunKnowledge? Knowledge { get; set; }

    /// <summary>The session's own tools for this execution, given to every agent (<see cref="ToolRegistry.SessionToolsAsync"/>).</summary>
    public IReadOnlyList<SessionTool> SessionTools { get; set; } = [];

    /// <summary>Whether a session tool must be approved before each call (its source's default policy).</summary>
    public bool AsksFirst(string tool) => SessionTools.Any(t => t.Tool.Name == tool && t.Tool.DefaultPolicy == ToolPolicy.Ask);

    /// <summary>The provider of the model call under way, to say which one failed.</summary>
    public ResolvedProvider? CurrentProvider { get; set; }

    /// <summary>
    /// Appends a step while the run is active (<see cref="RunAlreadyEndedException"/> once it ended), then
    /// catches up with the log: its own step, and anything others appended meanwhile (a pause request, a reaper).
    /// </summary>
    public async Task AppendAsync(IReadOnlyList<object> events, CancellationToken cancellationToken)
    {
        var seen = _history[^1].Version;
        var last = await log.AppendToRunAsync(SessionId, RunId, events, cancellationToken);
        if (last == seen + events.Count)
        {
            // Nobody wrote in between: the log now is what it was plus these events.
            Add(events.Select((e, i) => new SessionEvent(seen + 1 + i, e.GetType().Name, ((ITimelineEvent)e).At, e)));
        }
        else
        {
            Add(await log.ReadAsync(SessionId, seen, cancellationToken));
        }
    }

    /// <summary>The agent's provider, resolved (and its key decrypted) once per execution, not once per step.</summary>
    public async Task<ResolvedProvider> ProviderOfAsync(AgentDefinition agent, ProviderResolver resolver, CancellationToken cancellationToken)
    {
        if (!_providers.TryGetValue(agent.Name, out var provider))
        {
            provider = await resolver.ResolveAsync(OwnerId, agent.ProviderId, agent.Model, cancellationToken);
            _providers[agent.Name] = provider;
        }

        return provider;
    }

    /// <summary>The agent's tools, built once per execution (the functions are the same for every step).</summary>
    public AgentToolbox ToolboxOf(AgentDefinition agent, ToolRegistry tools) =>
        _toolboxes.TryGetValue(agent.Name, out var toolbox) ? toolbox : _toolboxes[agent.Name] = tools.For(SessionId, Team, agent, Knowledge, RunId, OwnerId, SessionTools);

    /// <summary>One client per provider and model for the execution, not one per step.</summary>
    public IChatCompletionService ModelOf(ResolvedProvider provider, ChatModels models) =>
        _models.TryGetValue(provider, out var model) ? model : _models[provider] = models.Create(provider);

    private void Add(IEnumerable<SessionEvent> newer)
    {
        foreach (var e in newer)
        {
            _history.Add(e);
            State.Apply(e);
        }
    }
}

/// <summary>A run that must end, with the reason the user reads.</summary>
/// <param name="kind">The reason as a short label for metrics.</param>
internal sealed class RunFailure(string message, string kind = RunFailure.Refused) : Exception(message)
{
    /// <summary>The run could not start or go on as configured (team gone, no prices for a cost limit, ...).</summary>
    public const string Refused = "refused";

    /// <summary>The loop breaker saw the run circle.</summary>
    public const string LoopBreaker = "loop_breaker";

    public string Kind { get; } = kind;
}
