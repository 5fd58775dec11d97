using System.Diagnostics;
using Conclave.Agents.Contracts;
using Conclave.Agents.Providers;
using Conclave.Agents.Telemetry;
using Conclave.Agents.Tools;
using Conclave.Sessions.Contracts;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Conclave.Agents.Runs;

/// <summary>
/// The step of an agent speaking: its message is streamed (deltas live, never persisted), then
/// appended together with the tool calls it asked for, and checked by the <see cref="LoopBreaker"/>.
/// </summary>
internal sealed class AgentTurn(
    ITokenStream tokens,
    ChatModels models,
    ModelCall modelCall,
    ProviderResolver providers,
    ToolRegistry tools,
    TimeProvider clock,
    AgentMetrics metrics,
    IOptions<ModelOutputOptions> output,
    ILogger<AgentTurn> logger)
{
    public async Task SpeakAsync(Run run, AgentDefinition agent, CancellationToken cancellationToken)
    {
        using var step = AgentTracing.StartStep("message", agent.Name);
        var started = Stopwatch.GetTimestamp();
        var provider = await run.ProviderOfAsync(agent, providers, cancellationToken);
        run.CurrentProvider = provider;
        var toolbox = run.ToolboxOf(agent, tools);
        var chat = Transcript.For(run.History, run.State, run.Team, agent, toolbox);
        var messageId = Guid.CreateVersion7();
        var modelStarted = Stopwatch.GetTimestamp();
        var reply = await modelCall.StreamAsync(
            run,
            agent.Name,
            provider,
            run.ModelOf(provider, models),
            chat,
            toolbox,
            output.Value.Limits,
            delta => tokens.Publish(run.SessionId, run.RunId, messageId, agent.Name, delta),
            cancellationToken);
        var modelTime = Stopwatch.GetElapsedTime(modelStarted);
        if (reply.Cut || reply.Calls.Any(c => c.ArgumentsCut))
        {
            logger.LogInformation(
                "Run {RunId}: {Agent}'s answer reached a cap (answer cut: {AnswerCut}, tool arguments cut: {ArgumentsCut}); its stream was aborted",
                run.RunId, agent.Name, reply.Cut, reply.Calls.Count(c => c.ArgumentsCut));
        }

        var now = clock.GetUtcNow();
        var cost = provider.Cost(reply.Usage.PromptTokens, reply.Usage.CompletionTokens);
        var message = new AgentMessageCompleted(run.RunId, messageId, agent.Name, reply.Text, provider.Model, reply.Usage, now, cost, provider.Name);
        var calls = reply.Calls.Select(c => new ToolCallRequested(run.RunId, c.CallId, messageId, agent.Name, c.Name, c.Arguments, now, c.ArgumentsCut)).ToList();
        // The passages the message cites are kept with it, in the same step.
        var cited = CitedPassages.Of(reply.Text, run.State.Passages);
        IReadOnlyList<object> citations = cited.Count > 0 ? [new MessageCited(run.RunId, messageId, agent.Name, cited, now)] : [];
        await run.AppendAsync([message, .. citations, .. calls], cancellationToken);
        metrics.StepPersisted("message", (Stopwatch.GetElapsedTime(started) - modelTime).TotalMilliseconds);

        if (LoopBreaker.AfterMessage(run.State, message, calls) is { } circling)
        {
            metrics.LoopBreakerTripped("message");
            throw new RunFailure(circling, RunFailure.LoopBreaker);
        }
    }
}
