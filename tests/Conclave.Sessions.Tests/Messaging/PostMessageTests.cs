using Conclave.Sessions.Contracts;
using Conclave.Sessions.Messaging;

namespace Conclave.Sessions.Tests.Messaging;

public sealed class PostMessageTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly Guid Session = Guid.NewGuid(), Message = Guid.NewGuid(), NewRun = Guid.NewGuid();

    [Fact]
    public void A_post_queues_its_run_and_requests_it_with_the_events()
    {
        var decision = new PostMessage("me", Session, "hi", null).Decide(Message, NewRun, Now);

        Assert.Equal<object>([new UserMessagePosted(Message, "me", "hi", Now), new RunQueued(NewRun, Message, Now, "me")], decision.Events);
        Assert.Equal<object>([new RunRequested(Session, NewRun, "me")], decision.Messages);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public void An_empty_message_is_refused(string text) =>
        Assert.Throws<SessionValidationException>(() => new PostMessage("me", Session, text, null).Validate());

    [Fact]
    public void Limits_out_of_range_are_refused() =>
        Assert.Equal("maxTurns", Assert.Throws<SessionValidationException>(() => new PostMessage("me", Session, "hi", new RunOverrides(MaxTurns: 0)).Validate()).Field);
}
