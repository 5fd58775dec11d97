using Conclave.Agents.Contracts;
using Conclave.Host.Components.Session;
using Conclave.Sessions.Contracts;

namespace Conclave.Host.Tests.Session;

/// <summary>The timeline shows a team's termination keyword as nothing: the log keeps it.</summary>
public sealed class ControlWordsTests
{
    private static readonly Guid Run = Guid.NewGuid();
    private long _version;

    [Theory]
    [InlineData("The plot is right. APPROVE", "The plot is right.")]
    [InlineData("APPROVE.\n\nThanks, all.", "Thanks, all.")]
    [InlineData("Looks good:\n- tests pass APPROVE!\n- done", "Looks good:\n- tests pass\n- done")]
    [InlineData("I do not APPROVED this, nor UNAPPROVE it.", "I do not APPROVED this, nor UNAPPROVE it.")]
    [InlineData("approve (lower case) is a word like any other", "approve (lower case) is a word like any other")]
    public void The_keyword_of_the_agent_allowed_to_say_it_is_hidden_on_its_own(string said, string shown)
    {
        var timeline = TimelineOf(new TerminationRules { Keyword = "APPROVE", KeywordAgent = "Critic" });

        Apply(timeline, new AgentMessageCompleted(Run, Guid.NewGuid(), "Critic", said, "m", new TokenUsage(1, 1), DateTimeOffset.UtcNow));

        Assert.Equal(shown, timeline.Entries[^1].Text);
    }

    [Fact]
    public void Another_agent_saying_the_word_is_shown_as_it_said_it()
    {
        var timeline = TimelineOf(new TerminationRules { Keyword = "APPROVE", KeywordAgent = "Critic" });

        Apply(timeline, new AgentMessageCompleted(Run, Guid.NewGuid(), "Coder", "Please APPROVE", "m", new TokenUsage(1, 1), DateTimeOffset.UtcNow));

        Assert.Equal("Please APPROVE", timeline.Entries[^1].Text);
    }

    [Fact]
    public void A_message_still_being_written_hides_the_keyword_too()
    {
        var timeline = TimelineOf(new TerminationRules { Keyword = "TERMINATE" });
        var message = Guid.NewGuid();

        timeline.Apply(new FeedDelta(Run, message, "Closer", "All done. TERMINATE"));

        Assert.Equal("All done.", timeline.Shown(timeline.Streaming.Single()));
    }

    private TimelineState TimelineOf(TerminationRules termination)
    {
        var team = new TeamDefinition
        {
            Name = "Team",
            Agents = [new AgentDefinition("Critic", "r", "p", []), new AgentDefinition("Coder", "r", "p", []), new AgentDefinition("Closer", "r", "p", [])],
            Termination = termination,
        };
        var timeline = new TimelineState();
        Apply(timeline, new SessionStarted(Guid.NewGuid(), "owner", "t", DateTimeOffset.UtcNow));
        Apply(timeline, new RunQueued(Run, Guid.NewGuid(), DateTimeOffset.UtcNow));
        Apply(timeline, new RunStarted(Run, "node", DateTimeOffset.UtcNow, team.Name, TeamSnapshot.Write(team)));
        return timeline;
    }

    private void Apply(TimelineState timeline, object data) =>
        timeline.Apply(new FeedEvent(new SessionEvent(++_version, data.GetType().Name, DateTimeOffset.UtcNow, data)));
}
