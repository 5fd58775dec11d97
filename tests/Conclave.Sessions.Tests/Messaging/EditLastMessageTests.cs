using Conclave.Sessions.Contracts;
using Conclave.Sessions.Messaging;

namespace Conclave.Sessions.Tests.Messaging;

public sealed class EditLastMessageTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly Guid Session = Guid.NewGuid(), Message = Guid.NewGuid(), Edited = Guid.NewGuid(), NewRun = Guid.NewGuid();

    [Fact]
    public void An_edit_ends_the_runs_still_going_and_queues_one_with_the_old_limits()
    {
        var going = Guid.NewGuid();
        var limits = new RunOverrides(MaxTurns: 3);
        var tail = new ConversationTail(new UserMessage(Message, 7, "old"), [going], limits);

        var decision = new EditLastMessage("me", Session, Message, "new").Decide(tail, Edited, NewRun, Now);

        Assert.Equal<object>(
            [
                new RunCancelled(going, RunReasons.SupersededByEdit, Now),
                new UserMessageEdited(Edited, Message, 7, "me", "new", Now),
                new RunQueued(NewRun, Edited, Now, "me", limits),
            ],
            decision.Events);
        Assert.Equal<object>([new RunRequested(Session, NewRun, "me"), new RunCancellationRequested(Session, going)], decision.Messages);
    }

    [Fact]
    public void Only_the_last_message_can_be_edited()
    {
        var tail = new ConversationTail(new UserMessage(Guid.NewGuid(), 3, "newer"), [], null);

        var refused = Assert.Throws<SessionValidationException>(() => new EditLastMessage("me", Session, Message, "new").Decide(tail, Edited, NewRun, Now));
        Assert.Equal("messageId", refused.Field);
        Assert.Throws<SessionValidationException>(() => new EditLastMessage("me", Session, Message, "new").Decide(new ConversationTail(null, [], null), Edited, NewRun, Now));
    }
}
