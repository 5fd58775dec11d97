using System.Diagnostics;
using Conclave.Agents.Contracts;
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
internal sealed class ToolCallStep(
    ToolRegistry tools,
    TimeProvider clock,
    AgentMetrics metrics,
    IOptions<ModelOutputOptions> output,
    IOptions<ApprovalOptions> approvals,
    ILogger<ToolCallStep> logger)
{
    /// <summary>
    /// Answers the call, or, for a tool the agent must ask before, appends the request for approval
    /// and returns false: the run then waits, and goes on with the user's answer.
    /// </summary>
    public async Task<bool> ExecuteAsync(Run run, ToolCallRequested call, CancellationToken cancellationToken)
    {
        var agent = run.Team.Agents.FirstOrDefault(a => a.Name == call.Agent);
        var approval = run.State.ApprovalOf(call.CallId);
        if (approval is null && (agent?.PolicyOf(call.Tool) == ToolPolicy.Ask || run.AsksFirst(call.Tool)) && !call.ArgumentsCut && !run.State.AlwaysAllowed(call.Tool))
        {
            if (!run.State.ApprovalAsked(call.CallId))
            {
                var now = clock.GetUtcNow();
                await run.AppendAsync(
                    [new ToolApprovalRequested(run.RunId, call.CallId, call.Agent, call.Tool, call.Arguments, now, now + approvals.Value.ApprovalTimeout)],
                    cancellationToken);
                logger.LogInformation("Run {RunId}: {Agent}'s call of {Tool} waits for approval", run.RunId, call.Agent, call.Tool);
            }

            return false;
        }

        if (approval is { Granted: false } denied)
        {
            await CompleteDeniedAsync(run, call, denied, cancellationToken);
            return true;
        }

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

        return true;
    }

    /// <summary>The agent learns the call did not run, and why, and goes on without it.</summary>
    private async Task CompleteDeniedAsync(Run run, ToolCallRequested call, ApprovalOutcome denied, CancellationToken cancellationToken)
    {
        var why = denied.TimedOut
            ? "nobody approved it in time"
            : denied.Reason is { } reason ? $"the user denied it: \"{reason}\"" : "the user denied it";
        var text = $"The call of {call.Tool} did not run: {why}. Do not call it again with the same arguments; go on without it, or ask the user.";
        await run.AppendAsync(
            [new ToolCallCompleted(run.RunId, call.CallId, call.Agent, call.Tool, text, ToolOutcome.Denied, [], TimeSpan.Zero, clock.GetUtcNow())],
            cancellationToken);
        metrics.ToolCalled(call.Tool, ToolOutcome.Denied);
    }
}
