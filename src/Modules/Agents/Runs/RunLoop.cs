using System.Diagnostics;
using Conclave.Agents.Contracts;
using Conclave.Agents.Providers;
using Conclave.Agents.Teams;
using Conclave.Agents.Telemetry;
using Conclave.Agents.Tools;
using Conclave.Knowledge.Contracts;
using Conclave.Sessions.Contracts;
using Microsoft.Extensions.Logging;

namespace Conclave.Agents.Runs;

/// <summary>
/// The loop of persisted steps: pause at a boundary when asked, answer the calls still pending, end
/// when <see cref="Termination"/> says so, else let the <see cref="NextSpeaker"/> speak. Every decision
/// is read from the log, so the loop picks a run up wherever it stopped.
/// </summary>
internal sealed class RunLoop(
    ITeams teams,
    ProviderResolver providers,
    AgentTurn turns,
    ToolCallStep calls,
    SpeakerSelector selector,
    IKnowledgeTool knowledge,
    ToolRegistry tools,
    TimeProvider clock,
    AgentMetrics metrics,
    ILogger<RunLoop> logger)
{
    /// <summary>Drives the run until it ends or pauses; its node id goes into <see cref="RunStarted"/>.</summary>
    public async Task DriveAsync(Run run, string nodeId, CancellationToken cancellationToken)
    {
        if (run.State.Status == RunStatus.Pausing)
        {
            await run.AppendAsync([new RunPaused(run.RunId, clock.GetUtcNow())], cancellationToken);
            return;
        }

        await StartAsync(run, nodeId, cancellationToken);
        while (true)
        {
            var state = run.State;
            if (state.Status == RunStatus.Pausing)
            {
                await run.AppendAsync([new RunPaused(run.RunId, clock.GetUtcNow())], cancellationToken);
                logger.LogInformation("Run {RunId} of session {SessionId} paused", run.RunId, run.SessionId);
                return;
            }

            if (state.PendingCalls.Count > 0)
            {
                if (!await calls.ExecuteAsync(run, state.PendingCalls[0], cancellationToken))
                {
                    // Waits for the user's approval: nobody executes the run until it is answered.
                    return;
                }

                continue;
            }

            if (Termination.Decide(run.Team, state, clock.GetUtcNow()) is var (end, kind))
            {
                await run.AppendAsync([end], cancellationToken);
                metrics.RunEnded("completed", kind);
                logger.LogInformation("Run {RunId} of session {SessionId} ended: {End}", run.RunId, run.SessionId, end);
                return;
            }

            var choice = NextSpeaker.Choose(run.Team, state);
            var speaker = choice.AskModel ? await selector.SelectAsync(run, choice.Agent, cancellationToken) : choice.Agent;
            await turns.SpeakAsync(run, speaker, cancellationToken);
        }
    }

    /// <summary>The team (as snapshotted when the run first started), its knowledge, <see cref="RunStarted"/>, and the price check.</summary>
    private async Task StartAsync(Run run, string nodeId, CancellationToken cancellationToken)
    {
        run.Team = await TeamOfAsync(run, cancellationToken);
        var teamId = run.Team.Id == Guid.Empty ? (Guid?)null : run.Team.Id;
        // Asked once per execution: a document added while the run goes on is offered to the next one.
        run.Knowledge = await knowledge.IsOfferedAsync(run.OwnerId, run.SessionId, teamId, cancellationToken)
            ? new RunKnowledge(run.OwnerId, teamId, () => run.State.NextPassageNumber)
            : null;
        run.SessionTools = await tools.SessionToolsAsync(run.OwnerId, run.SessionId, cancellationToken);
        Activity.Current?.SetTag("conclave.team", run.Team.Name);
        var snapshot = run.State.Started ? null : TeamSnapshot.Write(run.Team);
        await run.AppendAsync([new RunStarted(run.RunId, nodeId, clock.GetUtcNow(), run.Team.Name, snapshot)], cancellationToken);
        await CheckPricesAsync(run, cancellationToken);
    }

    private async Task<TeamDefinition> TeamOfAsync(Run run, CancellationToken cancellationToken)
    {
        if (TeamSnapshot.Read(run.State.TeamSnapshot) is { } snapshot)
        {
            return snapshot;
        }

        var teamId = run.State.TeamId ?? TeamTemplates.AssistantId;
        return await teams.FindAsync(run.OwnerId, teamId, cancellationToken)
            ?? throw new RunFailure("The session's team no longer exists. Pick another team and post the message again.");
    }

    /// <summary>A cost limit needs prices: a run that could not keep to it does not start.</summary>
    private async Task CheckPricesAsync(Run run, CancellationToken cancellationToken)
    {
        if (RunLimits.Of(run.Team.Termination, run.State.Limits).MaxCost is null)
        {
            return;
        }

        foreach (var agent in run.Team.Agents)
        {
            var provider = await run.ProviderOfAsync(agent, providers, cancellationToken);
            if (provider.InputPricePerMillion is null || provider.OutputPricePerMillion is null)
            {
                throw new RunFailure(
                    $"The run has a cost limit, but the provider '{provider.Name}' of {agent.Name} has no prices, so its cost is unknown. " +
                    "Set the provider's prices per million tokens, or remove the cost limit.");
            }
        }
    }
}
