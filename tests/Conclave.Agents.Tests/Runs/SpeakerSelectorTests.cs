using Conclave.Agents.Contracts;
using Conclave.Agents.Runs;

namespace Conclave.Agents.Tests.Runs;

public sealed class SpeakerSelectorTests
{
    private static readonly TeamDefinition Team = RunLog.Team(SpeakerSelection.ModelSelected, null, "Planner", "Coder") with { SelectorPrompt = "  Prefer Coder for code. " };

    [Fact]
    public void The_selector_is_told_the_roster_and_the_team_s_instructions() =>
        Assert.Equal(
            "You choose who speaks next in a team of agents working on the user's task. The members:\n" +
            "- Planner: Planner's role\n- Coder: Coder's role\nPrefer Coder for code.\n" +
            "Read the conversation and answer with the name of the next speaker only.",
            SpeakerSelector.Prompt(Team));

    [Theory]
    [InlineData("Coder", "Coder")]
    [InlineData("I pick Coder.", "Coder")]
    [InlineData("Coders", null)]
    [InlineData("nobody", null)]
    public void The_answer_names_a_member_as_a_word(string answer, string? chosen) =>
        Assert.Equal(chosen, SpeakerSelector.Chosen(Team, answer)?.Name);
}
