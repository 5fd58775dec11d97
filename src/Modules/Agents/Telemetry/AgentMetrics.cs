using System.Diagnostics.Metrics;
using Conclave.Sessions.Contracts;

namespace Conclave.Agents.Telemetry;

/// <summary>The module's instruments, on the meter <c>Conclave.Agents</c>: steps, tokens and cost.</summary>
internal sealed class AgentMetrics
{
    public const string MeterName = "Conclave.Agents";

    private readonly Histogram<double> _stepOverhead;
    private readonly Counter<long> _steps;
    private readonly Counter<long> _tokens;
    private readonly Counter<double> _cost;
    private readonly Counter<long> _runsEnded;

    public AgentMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _stepOverhead = meter.CreateHistogram<double>(
            "conclave.run.step.overhead", unit: "ms",
            description: "Time a run step spends in the orchestrator itself (reading, deciding, persisting), without the model's and the tool's own time.");
        _steps = meter.CreateCounter<long>("conclave.run.steps", description: "Persisted run steps, by kind (message, tool).");
        _tokens = meter.CreateCounter<long>("conclave.tokens", description: "Tokens used, by provider, model and direction (prompt, completion).");
        _cost = meter.CreateCounter<double>("conclave.cost", unit: "USD", description: "Cost of the tokens whose price is known, by provider.");
        _runsEnded = meter.CreateCounter<long>("conclave.runs.ended", description: "Runs that ended, by outcome.");
    }

    public void StepPersisted(string kind, double overheadMs)
    {
        var tag = new KeyValuePair<string, object?>("kind", kind);
        _steps.Add(1, tag);
        _stepOverhead.Record(overheadMs, tag);
    }

    public void Used(string provider, string model, TokenUsage usage, decimal? price)
    {
        KeyValuePair<string, object?> p = new("provider", provider), m = new("model", model);
        _tokens.Add(usage.PromptTokens, p, m, new("direction", "prompt"));
        _tokens.Add(usage.CompletionTokens, p, m, new("direction", "completion"));
        if (price is { } known)
        {
            _cost.Add((double)known, p);
        }
    }

    public void RunEnded(string outcome) => _runsEnded.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
}
