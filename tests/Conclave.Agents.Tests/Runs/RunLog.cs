using Conclave.Agents.Contracts;
using Conclave.Agents.Runs;
using Conclave.Sessions.Contracts;

namespace Conclave.Agents.Tests.Runs;

/// <summary>A session log being written by a test: a run queued, then whatever the test appends; read as a <see cref="RunState"/>.</summary>
internal sealed class RunLog
{
    public static readonly DateTimeOffset Start = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly List<SessionEvent> _events = [];

    public RunLog(RunOverrides? limits = null)
    {
        Add(new SessionStarted(SessionId, "owner", "test", Start));
        Add(new UserMessagePosted(Guid.NewGuid(), "owner", "Do the task", Start));
        Add(new RunQueued(RunId, Guid.NewGuid(), Start, "owner", limits));
        Add(new RunStarted(RunId, "node", Start));
    }

    public Guid SessionId { get; } = Guid.NewGuid();

    public Guid RunId { get; } = Guid.NewGuid();

    public RunState State => RunState.From(_events, RunId);

    public RunLog Add(object data)
    {
        _events.Add(new SessionEvent(_events.Count + 1, data.GetType().Name, ((ITimelineEvent)data).At, data));
        return this;
    }

    public RunLog Says(string agent, string text, TokenUsage? usage = null, decimal? cost = 0m) =>
        Add(new AgentMessageCompleted(RunId, Guid.NewGuid(), agent, text, "model", usage ?? new TokenUsage(10, 5), Start, cost));

    /// <summary>The agent's message asking for a call, then (unless <paramref name="answered"/> is false) the call's result.</summary>
    public RunLog Calls(string agent, string tool, string arguments = "{}", ToolOutcome outcome = ToolOutcome.Ok, bool answered = true)
    {
        var message = Guid.NewGuid();
        var callId = "call_" + Guid.NewGuid().ToString("N")[..8];
        Add(new AgentMessageCompleted(RunId, message, agent, "", "model", new TokenUsage(10, 5), Start, 0m));
        Add(new ToolCallRequested(RunId, callId, message, agent, tool, arguments, Start));
        return answered ? Add(new ToolCallCompleted(RunId, callId, agent, tool, "done", outcome, [], TimeSpan.Zero, Start)) : this;
    }

    public static AgentDefinition Agent(string name) => new(name, $"{name}'s role", $"You are {name}.", []);

    public static TeamDefinition Team(SpeakerSelection selection, TerminationRules? rules, params string[] agents) => new()
    {
        Name = "Team",
        Agents = [.. agents.Select(Agent)],
        Selection = selection,
        Termination = rules ?? new TerminationRules(),
    };
}
