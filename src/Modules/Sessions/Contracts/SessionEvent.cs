namespace Conclave.Sessions.Contracts;

/// <summary>
/// One persisted event of a session as clients see it. <see cref="Version"/> is the stream
/// version: the event id of the REST feed, the SSE <c>id:</c> and every replay.
/// </summary>
public sealed record SessionEvent(long Version, string Type, DateTimeOffset At, object Data);
