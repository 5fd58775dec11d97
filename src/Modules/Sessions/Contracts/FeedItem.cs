namespace Conclave.Sessions.Contracts;

/// <summary>What a live subscriber receives: persisted events, and the not-persisted text of
/// agent messages still being written.</summary>
public abstract record FeedItem;

public sealed record FeedEvent(SessionEvent Event) : FeedItem;

/// <summary>The text an agent has written so far, sent once to a subscriber that joins mid-message.</summary>
public sealed record FeedPartial(Guid RunId, Guid MessageId, string Agent, string Text) : FeedItem;

/// <summary>A token delta of a message being streamed; never persisted.</summary>
public sealed record FeedDelta(Guid RunId, Guid MessageId, string Agent, string Text) : FeedItem;
