using System.Diagnostics.Metrics;
using Conclave.Sessions.Contracts;
using Microsoft.Extensions.Options;

namespace Conclave.Agents.Telemetry;

/// <summary>One model call's facts, as the metrics see them.</summary>
/// <param name="Operation">The GenAI operation (<c>chat</c>).</param>
/// <param name="Cost">US dollars, or null when the provider has no prices (never zero for unknown).</param>
internal sealed record ModelCallFacts(
    string Operation, string Team, string Agent, string OwnerId, string Provider, string Model,
    TokenUsage Usage, decimal? Cost, TimeSpan Duration, TimeSpan? FirstToken);

/// <summary>
/// The module's instruments, on the meter <c>Conclave.Agents</c>: the GenAI semantic conventions'
/// client metrics, cost (known) and unpriced tokens (apart, never as zero cost), runs, steps, tool
/// calls, the loop breaker and provider errors. Labels are bounded: teams, agents, models and providers
/// are what users configure; tool names only those that exist; reasons and statuses from short lists.
/// </summary>
internal sealed class AgentMetrics
{
    public const string MeterName = "Conclave.Agents";

    private readonly bool _costByUser;
    private readonly Histogram<double> _stepOverhead;
    private readonly Counter<long> _steps;
    private readonly Histogram<long> _tokenUsage;
    private readonly Histogram<double> _operationDuration;
    private readonly Histogram<double> _timeToFirstToken;
    private readonly Counter<long> _tokens;
    private readonly Counter<double> _cost;
    private readonly Counter<long> _unpricedTokens;
    private readonly Counter<long> _runsEnded;
    private readonly UpDownCounter<long> _runsExecuting;
    private readonly Counter<long> _toolCalls;
    private readonly Counter<long> _loopBreakerTrips;
    private readonly Counter<long> _providerErrors;

    public AgentMetrics(IMeterFactory meterFactory, IOptions<AgentTelemetryOptions> options)
    {
        _costByUser = options.Value.CostByUser;
        var meter = meterFactory.Create(MeterName);
        _stepOverhead = meter.CreateHistogram<double>(
            "conclave.run.step.overhead", unit: "ms",
            description: "Time a run step spends in the orchestrator itself (reading, deciding, persisting), without the model's and the tool's own time.");
        _steps = meter.CreateCounter<long>("conclave.run.steps", description: "Persisted run steps, by kind (message, tool).");
        _tokenUsage = meter.CreateHistogram<long>(
            "gen_ai.client.token.usage", unit: "{token}", description: "Number of input and output tokens used per model call.");
        _operationDuration = meter.CreateHistogram<double>(
            "gen_ai.client.operation.duration", unit: "s", description: "Duration of a model call, from the request to the end of the streamed answer.");
        _timeToFirstToken = meter.CreateHistogram<double>(
            "conclave.gen_ai.time_to_first_token", unit: "s", description: "Time from a model request to the first streamed chunk.");
        _tokens = meter.CreateCounter<long>(
            "conclave.tokens", description: "Tokens used, by team, agent, model, provider and token type (input, output).");
        _cost = meter.CreateCounter<double>(
            "conclave.cost.usd", description: "US dollars of the model calls whose price is known, by team, agent, model, provider and user.");
        _unpricedTokens = meter.CreateCounter<long>(
            "conclave.tokens.unpriced", description: "Tokens of model calls whose provider has no price: their cost is unknown, not zero.");
        _runsEnded = meter.CreateCounter<long>("conclave.runs.ended", description: "Runs that ended, by outcome (completed, cancelled, failed) and reason.");
        _runsExecuting = meter.CreateUpDownCounter<long>("conclave.runs.executing", description: "Runs executing on this node (holding their lease).");
        _toolCalls = meter.CreateCounter<long>(
            "conclave.tool.calls", description: "Tool calls, by tool and outcome (ok, error, rejected; a rejected call of tool 'unknown' is a hallucinated one).");
        _loopBreakerTrips = meter.CreateCounter<long>("conclave.loop_breaker.trips", description: "Runs failed by the loop breaker (the same message or call again and again).");
        _providerErrors = meter.CreateCounter<long>("conclave.provider.errors", description: "Failed model calls, by provider and status (an HTTP status, or unreachable, interrupted, refused, ...).");

        // At zero from the start, so increase() sees a first trip and a dashboard shows 0 rather than "no data".
        foreach (var after in (string[])["message", "call"])
        {
            _loopBreakerTrips.Add(0, new KeyValuePair<string, object?>("after", after));
        }
    }

    public void StepPersisted(string kind, double overheadMs)
    {
        var tag = new KeyValuePair<string, object?>("kind", kind);
        _steps.Add(1, tag);
        _stepOverhead.Record(overheadMs, tag);
    }

    public void ModelCalled(ModelCallFacts call)
    {
        KeyValuePair<string, object?> operation = new("gen_ai.operation.name", call.Operation), model = new("gen_ai.request.model", call.Model);
        _tokenUsage.Record(call.Usage.PromptTokens, operation, model, new("gen_ai.token.type", "input"));
        _tokenUsage.Record(call.Usage.CompletionTokens, operation, model, new("gen_ai.token.type", "output"));
        _operationDuration.Record(call.Duration.TotalSeconds, operation, model);
        if (call.FirstToken is { } first)
        {
            _timeToFirstToken.Record(first.TotalSeconds, operation, model);
        }

        var who = Who(call);
        _tokens.Add(call.Usage.PromptTokens, [.. who, new("gen_ai.token.type", "input")]);
        _tokens.Add(call.Usage.CompletionTokens, [.. who, new("gen_ai.token.type", "output")]);
        if (call.Cost is { } known)
        {
            _cost.Add((double)known, WithUser(who, call.OwnerId));
        }
        else
        {
            var unpriced = WithUser(who, call.OwnerId);
            _unpricedTokens.Add(call.Usage.PromptTokens, [.. unpriced, new("gen_ai.token.type", "input")]);
            _unpricedTokens.Add(call.Usage.CompletionTokens, [.. unpriced, new("gen_ai.token.type", "output")]);
        }
    }

    public void ModelFailed(string operation, string provider, string model, string status, TimeSpan duration)
    {
        _operationDuration.Record(
            duration.TotalSeconds, new("gen_ai.operation.name", operation), new("gen_ai.request.model", model), new KeyValuePair<string, object?>("error.type", status));
        _providerErrors.Add(1, new("provider", provider), new KeyValuePair<string, object?>("status", status));
    }

    public void RunEnded(string outcome, string reason) =>
        _runsEnded.Add(1, new("outcome", outcome), new KeyValuePair<string, object?>("reason", reason));

    public IDisposable RunExecuting()
    {
        _runsExecuting.Add(1);
        return new Executing(_runsExecuting);
    }

    public void ToolCalled(string tool, ToolOutcome outcome) =>
        _toolCalls.Add(1, new("tool", tool), new KeyValuePair<string, object?>("outcome", outcome.ToString().ToLowerInvariant()));

    public void LoopBreakerTripped(string after) => _loopBreakerTrips.Add(1, new KeyValuePair<string, object?>("after", after));

    private static KeyValuePair<string, object?>[] Who(ModelCallFacts call) =>
    [
        new("team", call.Team), new("agent", call.Agent), new("gen_ai.request.model", call.Model), new("provider", call.Provider),
    ];

    // A label per user can be too many series for a large installation: Conclave:Metrics:CostByUser=false drops it.
    private KeyValuePair<string, object?>[] WithUser(KeyValuePair<string, object?>[] who, string ownerId) =>
        _costByUser ? [.. who, new("user", ownerId)] : who;

    private sealed class Executing(UpDownCounter<long> executing) : IDisposable
    {
        public void Dispose() => executing.Add(-1);
    }
}
