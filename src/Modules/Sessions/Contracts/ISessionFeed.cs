namespace Conclave.Sessions.Contracts;

/// <summary>
/// The single catch-up-then-live mechanism every consumer uses (Blazor page, SSE, bridges).
/// </summary>
public interface ISessionFeed
{
    /// <summary>
    /// Yields every event after <paramref name="afterVersion"/> exactly once and in order, then
    /// live events, and streamed text (a partial snapshot then deltas) of messages in flight.
    /// The caller must already have checked that it may read the session.
    /// </summary>
    IAsyncEnumerable<FeedItem> SubscribeAsync(Guid sessionId, long afterVersion, CancellationToken cancellationToken);
}

/// <summary>Publishes token deltas of an agent message being streamed. Deltas go to live
/// subscribers only; the completed message is appended as <see cref="AgentMessageCompleted"/>.</summary>
public interface ITokenStream
{
    void Publish(Guid sessionId, Guid runId, Guid messageId, string agent, string text);
}
