namespace Conclave.Sessions.Log;

/// <summary>
/// What a use case decided: the events to append to the session, and the messages that leave with
/// them. <see cref="SessionStream"/> appends the events and sends the messages through the outbox in
/// the same transaction, so both happen or neither does.
/// </summary>
internal sealed record Decision(IReadOnlyList<object> Events, IReadOnlyList<object> Messages)
{
    public static Decision Append(params IReadOnlyList<object> events) => new(events, []);

    /// <summary>Also sends <paramref name="messages"/> (durably, when their queue is durable) if the events commit.</summary>
    public Decision Send(params IReadOnlyList<object> messages) => this with { Messages = [.. Messages, .. messages] };

    /// <summary>Also sends <paramref name="message"/> at <paramref name="at"/> (durably, kept across restarts) if the events commit.</summary>
    public Decision SendAt(object message, DateTimeOffset at) => Send(new Scheduled(message, at));
}

/// <summary>A message that leaves with a decision but is delivered later.</summary>
internal sealed record Scheduled(object Message, DateTimeOffset At);
