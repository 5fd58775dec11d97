using Conclave.Agents.Contracts;
using Conclave.Agents.Runs;

namespace Conclave.Agents.Tests.Runs;

public sealed class NextSpeakerTests
{
    private static string Next(TeamDefinition team, RunLog log) => NextSpeaker.Choose(team, log.State).Agent.Name;

    [Fact]
    public void A_round_robin_team_speaks_in_roster_order_and_wraps()
    {
        var team = RunLog.Team(SpeakerSelection.RoundRobin, null, "A", "B", "C");

        Assert.Equal("A", Next(team, new RunLog()));
        Assert.Equal("B", Next(team, new RunLog().Says("A", "1")));
        Assert.Equal("A", Next(team, new RunLog().Says("A", "1").Says("B", "2").Says("C", "3")));
    }

    [Fact]
    public void An_agent_that_called_tools_goes_on_with_their_results()
    {
        var team = RunLog.Team(SpeakerSelection.RoundRobin, null, "A", "B");

        Assert.Equal("A", Next(team, new RunLog().Calls("A", "run_python")));
    }

    [Fact]
    public void A_model_selected_team_asks_the_model_with_round_robin_as_fallback()
    {
        var team = RunLog.Team(SpeakerSelection.ModelSelected, null, "A", "B", "C");

        Assert.Equal(new SpeakerChoice(team.Agents[0]), NextSpeaker.Choose(team, new RunLog().State));
        Assert.Equal(new SpeakerChoice(team.Agents[2], AskModel: true), NextSpeaker.Choose(team, new RunLog().Says("B", "2").State));
    }

    [Fact]
    public void A_handoff_team_follows_the_transfer_and_otherwise_keeps_the_speaker()
    {
        var team = RunLog.Team(SpeakerSelection.Handoff, null, "Triage", "Expert");

        Assert.Equal("Expert", Next(team, new RunLog().Calls("Triage", "transfer_to_Expert")));
        Assert.Equal("Triage", Next(team, new RunLog().Says("Triage", "Let me think")));
    }

    [Fact]
    public void A_handoff_to_someone_not_in_the_team_goes_nowhere()
    {
        var team = RunLog.Team(SpeakerSelection.Handoff, null, "Triage", "Expert");

        Assert.Equal("Triage", Next(team, new RunLog().Calls("Triage", "transfer_to_Nobody")));
    }

    [Fact]
    public void A_speaker_no_longer_in_the_team_hands_on_to_the_first_agent()
    {
        var team = RunLog.Team(SpeakerSelection.RoundRobin, null, "A", "B");

        Assert.Equal("A", Next(team, new RunLog().Says("Gone", "hello")));
    }
}
