using Conclave.Host.Components.Session;
using Conclave.Sessions.Contracts;

namespace Conclave.Host.Tests.Session;

/// <summary>What the session page keeps of a history it folded: entries, not events; texts only of what it draws.</summary>
public sealed class TimelineStateTests
{
    private static readonly Guid Run = Guid.NewGuid();
    private readonly List<SessionEvent> _log = [];

    [Fact]
    public void Texts_let_go_before_a_version_come_back_from_the_events_read_again()
    {
        var timeline = new TimelineState();
        var question = Apply(timeline, new UserMessagePosted(Guid.NewGuid(), "owner", "First question", DateTimeOffset.UtcNow));
        Apply(timeline, new AgentMessageCompleted(Run, Guid.NewGuid(), "Assistant", "First answer", "m", new TokenUsage(1, 1), DateTimeOffset.UtcNow));
        var drawnFrom = Apply(timeline, new UserMessagePosted(Guid.NewGuid(), "owner", "Second question", DateTimeOffset.UtcNow));

        timeline.FoldTextsBefore(drawnFrom.Version);

        Assert.Equal(["", "", "Second question"], timeline.Entries.Select(e => e.Text));
        Assert.True(timeline.AnyFolded(question.Version, drawnFrom.Version));

        timeline.Unfold(_log.Where(e => e.Version < drawnFrom.Version));

        Assert.Equal(["First question", "First answer", "Second question"], timeline.Entries.Select(e => e.Text));
        Assert.False(timeline.AnyFolded(question.Version, drawnFrom.Version));
    }

    [Fact]
    public void An_edit_supersedes_the_entries_from_the_message_it_replaced_though_their_events_are_not_kept()
    {
        var timeline = new TimelineState();
        Apply(timeline, new SessionTeamChanged(Guid.NewGuid(), "A team", DateTimeOffset.UtcNow));
        var replaced = Guid.NewGuid();
        var posted = Apply(timeline, new UserMessagePosted(replaced, "owner", "Wrong question", DateTimeOffset.UtcNow));
        Apply(timeline, new AgentMessageCompleted(Run, Guid.NewGuid(), "Assistant", "Wrong answer", "m", new TokenUsage(1, 1), DateTimeOffset.UtcNow));

        Apply(timeline, new UserMessageEdited(Guid.NewGuid(), replaced, posted.Version, "owner", "Right question", DateTimeOffset.UtcNow));

        Assert.Equal([false, true, true, false], timeline.Entries.Select(e => e.Superseded));
    }

    private SessionEvent Apply(TimelineState timeline, object data)
    {
        var e = new SessionEvent(_log.Count + 1, data.GetType().Name, DateTimeOffset.UtcNow, data);
        _log.Add(e);
        timeline.Apply(new FeedEvent(e));
        return e;
    }
}
