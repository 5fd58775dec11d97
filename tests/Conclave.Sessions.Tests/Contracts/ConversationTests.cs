using Conclave.Sessions.Contracts;

namespace Conclave.Sessions.Tests.Contracts;

/// <summary>The supersede rule: an edit takes the conversation from the edited message up to itself out.</summary>
public sealed class ConversationTests
{
    private static readonly DateTimeOffset At = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly Guid Run1 = Guid.NewGuid(), Run2 = Guid.NewGuid(), First = Guid.NewGuid(), Second = Guid.NewGuid();

    private static List<SessionEvent> History(params object[] data) =>
        data.Select((d, i) => new SessionEvent(i + 1, d.GetType().Name, At, d)).ToList();

    [Fact]
    public void An_edit_supersedes_the_edited_message_and_what_followed_it()
    {
        var history = History(
            new SessionStarted(Guid.NewGuid(), "me", "t", At),                      // 1
            new UserMessagePosted(First, "me", "first", At),                          // 2
            new RunQueued(Run1, First, At),                                           // 3
            new AgentMessageCompleted(Run1, Guid.NewGuid(), "A", "answer", "m", TokenUsage.None, At), // 4
            new RunCompleted(Run1, At),                                               // 5
            new UserMessageEdited(Second, First, 2, "me", "second", At),              // 6
            new RunQueued(Run2, Second, At));                                         // 7

        Assert.Equal([2L, 3, 4, 5], Conversation.SupersededVersions(history).Order());
    }

    [Fact]
    public void What_is_not_conversation_is_never_superseded()
    {
        var history = History(
            new UserMessagePosted(First, "me", "first", At),                          // 1
            new SessionTeamChanged(Guid.NewGuid(), "Team", At),                       // 2
            new SessionRenamed("renamed", At),                                        // 3
            new UserMessageEdited(Second, First, 1, "me", "second", At));             // 4

        Assert.Equal([1L], Conversation.SupersededVersions(history));
        var edit = (UserMessageEdited)history[3].Data;
        Assert.False(Conversation.Supersedes(edit, 4, history[1]));
    }

    [Fact]
    public void An_edit_never_supersedes_itself_or_what_comes_after_it()
    {
        var history = History(
            new UserMessagePosted(First, "me", "first", At),                          // 1
            new UserMessageEdited(Second, First, 1, "me", "second", At),              // 2
            new RunQueued(Run2, Second, At));                                         // 3
        var edit = (UserMessageEdited)history[1].Data;

        Assert.Equal([true, false, false], history.Select(e => Conversation.Supersedes(edit, 2, e)));
    }

    [Fact]
    public void Edits_of_edits_supersede_each_range()
    {
        var third = Guid.NewGuid();
        var history = History(
            new UserMessagePosted(First, "me", "first", At),                          // 1
            new RunQueued(Run1, First, At),                                           // 2
            new UserMessageEdited(Second, First, 1, "me", "second", At),              // 3
            new RunQueued(Run2, Second, At),                                          // 4
            new UserMessageEdited(third, Second, 3, "me", "third", At));              // 5

        Assert.Equal([1L, 2, 3, 4], Conversation.SupersededVersions(history).Order());
        Assert.Equal(new UserMessage(third, 5, "third"), Conversation.LastUserMessage(history));
    }
}
