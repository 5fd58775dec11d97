using Conclave.Agents.Contracts;

namespace Conclave.Agents.Runs;

/// <summary>Who speaks next: an agent of the team, or, in a model-selected team, the selector model's choice.</summary>
/// <param name="Agent">The agent who speaks; when <paramref name="AskModel"/>, the fallback if the model names nobody.</param>
internal sealed record SpeakerChoice(AgentDefinition Agent, bool AskModel = false);

/// <summary>Chooses the next speaker from the team and where the run stands. Pure: no model is asked here.</summary>
internal static class NextSpeaker
{
    public static SpeakerChoice Choose(TeamDefinition team, RunState state)
    {
        var agents = team.Agents;
        AgentDefinition? Named(string? name) => agents.FirstOrDefault(a => a.Name == name);

        if (state.HandoffTo is { } target && Named(target) is { } handedTo)
        {
            return new(handedTo);
        }

        if (state.LastMessageCalledTools && Named(state.LastSpeaker) is { } same)
        {
            return new(same); // it goes on with its tools' results
        }

        if (state.LastSpeaker is null || agents.Count == 1)
        {
            return new(Named(state.LastSpeaker) ?? agents[0]);
        }

        var next = agents[(agents.ToList().FindIndex(a => a.Name == state.LastSpeaker) + 1) % agents.Count];
        return team.Selection switch
        {
            SpeakerSelection.ModelSelected => new(next, AskModel: true),
            // Without a handoff the same agent goes on.
            SpeakerSelection.Handoff => new(Named(state.LastSpeaker) ?? agents[0]),
            _ => new(next),
        };
    }
}
