namespace Conclave.Sessions.Contracts;

/// <summary>Every session event says when it happened; time is passed in, never read inside a handler.</summary>
public interface ITimelineEvent
{
    DateTimeOffset At { get; }
}

/// <summary>An event of one run: its lifecycle, its steps, its usage.</summary>
public interface IRunEvent : ITimelineEvent
{
    Guid RunId { get; }
}

/// <summary>
/// The run has ended: nothing is appended to it afterwards, its streamed text is over, it no longer
/// counts as active. Every reader decides "has the run ended?" by this marker alone, so a new terminal
/// state is one new event type implementing it.
/// </summary>
public interface IRunEnded : IRunEvent
{
    /// <summary>The status the run ended in (not stored: it follows from the event's type).</summary>
    RunStatus Status { get; }

    /// <summary>Why it ended, when something other than the work being done ended it.</summary>
    string? Reason { get; }
}
