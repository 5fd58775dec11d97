namespace Conclave.Sessions.Contracts;

/// <summary>Every session event says when it happened; time is passed in, never read inside a handler.</summary>
public interface ITimelineEvent
{
    DateTimeOffset At { get; }
}
