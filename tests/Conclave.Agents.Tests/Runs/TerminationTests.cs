using Conclave.Agents.Contracts;
using Conclave.Agents.Runs;
using Conclave.Sessions.Contracts;

namespace Conclave.Agents.Tests.Runs;

public sealed class TerminationTests
{
    private static readonly DateTimeOffset Now = RunLog.Start.AddMinutes(1);

    private static readonly TeamDefinition Trio = RunLog.Team(SpeakerSelection.RoundRobin, new TerminationRules { Keyword = "APPROVE", KeywordAgent = "Critic" }, "Planner", "Coder", "Critic");

    [Fact]
    public void A_run_that_just_started_goes_on() =>
        Assert.Null(Termination.Check(Trio, new RunLog().State, Now));

    [Fact]
    public void The_keyword_from_the_agent_allowed_to_say_it_ends_the_run()
    {
        var end = Termination.Check(Trio, new RunLog().Says("Critic", "Looks right. APPROVE").State, Now);

        Assert.Equal("Critic said APPROVE.", end?.Reason);
    }

    [Theory]
    [InlineData("Coder", "APPROVE")]          // not the agent allowed to say it
    [InlineData("Critic", "I cannot APPROVEX")] // not the word on its own
    [InlineData("Critic", "approve")]          // another word: the keyword is case-sensitive
    public void Anything_else_is_not_the_keyword(string agent, string text) =>
        Assert.Null(Termination.Check(Trio, new RunLog().Says(agent, text).State, Now));

    [Fact]
    public void The_keyword_in_a_message_that_called_tools_does_not_end_the_run() =>
        Assert.Null(Termination.Check(Trio, new RunLog().Calls("Critic", "read_file", answered: false).State, Now));

    [Fact]
    public void A_single_agent_answer_ends_the_run_without_a_reason()
    {
        var solo = RunLog.Team(SpeakerSelection.RoundRobin, null, "Solo");

        var end = Termination.Check(solo, new RunLog().Says("Solo", "Here you are.").State, Now);

        Assert.NotNull(end);
        Assert.Null(end.Reason);
        Assert.Null(Termination.Check(solo, new RunLog().Calls("Solo", "run_python").State, Now));
    }

    [Fact]
    public void A_handoff_team_ends_when_an_agent_answers_without_handing_over()
    {
        var handoff = RunLog.Team(SpeakerSelection.Handoff, null, "Triage", "Expert");

        Assert.NotNull(Termination.Check(handoff, new RunLog().Says("Triage", "Done.").State, Now));
        Assert.Null(Termination.Check(handoff, new RunLog().Calls("Triage", "transfer_to_Expert").State, Now));
    }

    [Fact]
    public void The_turn_limit_of_the_run_wins_over_the_team_s()
    {
        var log = new RunLog(new RunOverrides(MaxTurns: 2)).Says("Planner", "one").Says("Coder", "two");

        Assert.Equal("Reached the limit of 2 turns.", Termination.Check(Trio, log.State, Now)?.Reason);
        Assert.Null(Termination.Check(Trio, new RunLog().Says("Planner", "one").Says("Coder", "two").State, Now));
    }

    [Fact]
    public void The_token_limit_counts_every_model_call_of_the_run()
    {
        var log = new RunLog(new RunOverrides(MaxTokens: 100)).Says("Planner", "plan", new TokenUsage(40, 10));
        log.Add(new SpeakerSelected(Guid.NewGuid(), "Coder", "m", new TokenUsage(40, 10), RunLog.Start)); // another run's
        Assert.Null(Termination.Check(Trio, log.State, Now));

        log.Add(new SpeakerSelected(log.RunId, "Coder", "m", new TokenUsage(40, 10), RunLog.Start));

        Assert.Equal("Reached the token limit: 100 tokens used of 100.", Termination.Check(Trio, log.State, Now)?.Reason);
    }

    [Fact]
    public void Only_known_cost_counts_against_the_cost_limit()
    {
        var priced = new RunLog(new RunOverrides(MaxCost: 0.5m)).Says("Planner", "a", cost: 0.3m).Says("Coder", "b", cost: 0.2m);
        var unpriced = new RunLog(new RunOverrides(MaxCost: 0.5m)).Says("Planner", "a", cost: 0.3m).Says("Coder", "b", cost: null);

        Assert.Equal("Reached the cost limit: $0.5 spent of $0.5.", Termination.Check(Trio, priced.State, Now)?.Reason);
        Assert.Null(Termination.Check(Trio, unpriced.State, Now));
    }

    [Fact]
    public void The_time_limit_counts_working_time_not_pauses()
    {
        var log = new RunLog(new RunOverrides(MaxDuration: TimeSpan.FromMinutes(10)));
        log.Add(new RunPaused(log.RunId, RunLog.Start.AddMinutes(5))).Add(new RunResumed(log.RunId, RunLog.Start.AddMinutes(60)));

        Assert.Null(Termination.Check(Trio, log.State, RunLog.Start.AddMinutes(64)));
        Assert.Equal(
            $"Reached the time limit of {TimeSpan.FromMinutes(10)}.",
            Termination.Check(Trio, log.State, RunLog.Start.AddMinutes(65))?.Reason);
    }

    [Fact]
    public void The_rules_are_checked_in_order_the_keyword_first()
    {
        var log = new RunLog(new RunOverrides(MaxTurns: 1)).Says("Critic", "APPROVE");

        var end = Termination.Check(Trio, log.State, Now);

        Assert.Equal((log.RunId, Now, "Critic said APPROVE."), (end!.RunId, end.At, end.Reason));
    }
}
