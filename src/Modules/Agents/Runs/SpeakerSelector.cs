using System.Text;
using Conclave.Agents.Contracts;
using Conclave.Agents.Providers;
using Conclave.Agents.Telemetry;
using Conclave.Agents.Tools;
using Conclave.Sessions.Contracts;
using Microsoft.Extensions.Options;
using Microsoft.SemanticKernel.ChatCompletion;

namespace Conclave.Agents.Runs;

/// <summary>
/// Asks the model who speaks next in a model-selected team (with the first agent's provider), and
/// records the choice with its usage (<see cref="SpeakerSelected"/>). An answer naming no member
/// falls back to round-robin.
/// </summary>
internal sealed class SpeakerSelector(ChatModels models, ModelCall modelCall, ProviderResolver providers, TimeProvider clock, IOptions<ModelOutputOptions> output)
{
    public async Task<AgentDefinition> SelectAsync(Run run, AgentDefinition fallback, CancellationToken cancellationToken)
    {
        using var step = AgentTracing.StartStep("select_speaker", run.Team.Agents[0].Name);
        var team = run.Team;
        var selector = team.Agents[0];
        var provider = await run.ProviderOfAsync(selector, providers, cancellationToken);
        run.CurrentProvider = provider;
        var chat = new ChatHistory(Prompt(team));
        foreach (var message in Transcript.For(run.History, run.State, team, selector, new AgentToolbox([])).Skip(1))
        {
            if (!string.IsNullOrEmpty(message.Content))
            {
                chat.AddUserMessage(message.Content);
            }
        }

        var reply = await modelCall.StreamAsync(run, selector.Name, provider, models.Create(provider), chat, new AgentToolbox([]), output.Value.Limits, _ => { }, cancellationToken);
        var chosen = Chosen(team, reply.Text) ?? fallback;
        var cost = provider.Cost(reply.Usage.PromptTokens, reply.Usage.CompletionTokens);
        await run.AppendAsync([new SpeakerSelected(run.RunId, chosen.Name, provider.Model, reply.Usage, clock.GetUtcNow(), cost)], cancellationToken);
        return chosen;
    }

    /// <summary>The selector's system prompt: the roster, the team's own instructions, and what to answer.</summary>
    public static string Prompt(TeamDefinition team)
    {
        var prompt = new StringBuilder("You choose who speaks next in a team of agents working on the user's task. The members:\n");
        foreach (var member in team.Agents)
        {
            prompt.Append("- ").Append(member.Name).Append(": ").Append(member.Role).Append('\n');
        }

        if (!string.IsNullOrWhiteSpace(team.SelectorPrompt))
        {
            prompt.Append(team.SelectorPrompt.Trim()).Append('\n');
        }

        return prompt.Append("Read the conversation and answer with the name of the next speaker only.").ToString();
    }

    /// <summary>The first member (in roster order) whose name the answer contains as a word, or null.</summary>
    public static AgentDefinition? Chosen(TeamDefinition team, string answer) =>
        team.Agents.FirstOrDefault(a => Termination.ContainsWord(answer, a.Name));
}
