using System.Diagnostics;
using Conclave.Agents.Telemetry;
using Conclave.Agents.Tools;
using Conclave.Sessions.Contracts;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Conclave.Agents.Runs;

/// <summary>
/// The step of a tool call: the call is checked (the tool exists, the arguments fit) and executed, or
/// answered with a correction naming the real tools; either way its result is one appended step.
/// </summary>
internal sealed class ToolCallStep(ToolRegistry tools, TimeProvider clock, AgentMetrics metrics, IOptions<ModelOutputOptions> output, ILogger<ToolCallStep> logger)
{
    public async Task ExecuteAsync(Run run, ToolCallRequested call, CancellationToken cancellationToken)
    {
        var agent = run.Team.Agents.FirstOrDefault(a => a.Name == call.Agent);
        var toolbox = agent is null ? new AgentToolbox([]) : run.ToolboxOf(agent, tools);
        // A label only for tools that exist: the names a model invents are unbounded.
        var tool = toolbox.Functions.Any(f => f.Name == call.Tool) ? call.Tool : "unknown";
        using var step = AgentTracing.StartStep("tool", call.Agent);
        using var span = AgentTracing.StartToolCall(tool, call.CallId);
        var started = Stopwatch.GetTimestamp();
        var check = call.ArgumentsCut
            ? CheckedCall.Rejected(
                $"The arguments of {call.Tool} were longer than the limit of {output.Value.MaxToolArgumentChars:N0} characters, so the call was not run. " +
                "Pass less at once: split the work over several smaller calls (e.g. write a large file in parts).")
            : toolbox.Check(call.Tool, call.Arguments);
        var toolTime = TimeSpan.Zero;
        ToolAnswer answer;
        if (check.Function is null)
        {
            answer = new ToolAnswer(check.Correction!, ToolOutcome.Rejected, []);
            logger.LogInformation("Run {RunId}: {Agent}'s call of {Tool} was corrected: {Correction}", run.RunId, call.Agent, call.Tool, check.Correction);
        }
        else
        {
            var toolStarted = Stopwatch.GetTimestamp();
            answer = await AgentToolbox.InvokeAsync(check.Function, check.Arguments!, cancellationToken);
            toolTime = Stopwatch.GetElapsedTime(toolStarted);
        }

        var done = new ToolCallCompleted(
            run.RunId, call.CallId, call.Agent, call.Tool, answer.Text, answer.Outcome, answer.Images, toolTime, clock.GetUtcNow(), answer.Passages);
        span?.SetTag("conclave.tool.outcome", answer.Outcome.ToString());
        await run.AppendAsync([done], cancellationToken);
        metrics.StepPersisted("tool", (Stopwatch.GetElapsedTime(started) - toolTime).TotalMilliseconds);
        metrics.ToolCalled(tool, answer.Outcome);

        if (LoopBreaker.AfterCall(run.State, done) is { } circling)
        {
            metrics.LoopBreakerTripped("call");
            throw new RunFailure(circling, RunFailure.LoopBreaker);
        }
    }
}
