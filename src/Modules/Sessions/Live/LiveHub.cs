using System.Collections.Concurrent;
using System.Text;
using System.Threading.Channels;
using Conclave.Sessions.Contracts;

namespace Conclave.Sessions.Live;

/// <summary>
/// In-process fan-out of a session's committed events and token deltas to live subscribers. It
/// keeps the text of messages still being streamed so a subscriber that joins mid-message can
/// start from the partial text. It never reads the store: gaps are filled by the subscriber.
/// </summary>
internal sealed class LiveHub : ITokenStream
{
    /// <summary>A subscriber further behind than this is dropped; it reconnects from its last version.</summary>
    internal const int SubscriberCapacity = 10_000;

    private readonly ConcurrentDictionary<Guid, Topic> _topics = new();

    public Subscription Subscribe(Guid sessionId)
    {
        var channel = Channel.CreateBounded<FeedItem>(new BoundedChannelOptions(SubscriberCapacity)
        {
            SingleReader = true,
            SingleWriter = false,
            FullMode = BoundedChannelFullMode.Wait,
        });
        while (true)
        {
            var topic = _topics.GetOrAdd(sessionId, static _ => new Topic());
            lock (topic)
            {
                if (topic.Retired)
                {
                    continue;
                }

                topic.Subscribers.Add(channel);
                var partials = topic.Partials.Values.Select(p => p.Snapshot()).ToList();
                return new Subscription(channel.Reader, partials, () => Unsubscribe(sessionId, topic, channel));
            }
        }
    }

    public void PublishEvents(Guid sessionId, IReadOnlyList<SessionEvent> events)
    {
        if (!_topics.TryGetValue(sessionId, out var topic))
        {
            return;
        }

        lock (topic)
        {
            foreach (var e in events)
            {
                ForgetFinishedText(topic, e.Data);
                Broadcast(topic, new FeedEvent(e));
            }

            RetireIfIdle(sessionId, topic);
        }
    }

    public void Publish(Guid sessionId, Guid runId, Guid messageId, string agent, string text)
    {
        // The text is kept even with nobody listening: a subscriber may join mid-message.
        while (true)
        {
            var topic = _topics.GetOrAdd(sessionId, static _ => new Topic());
            lock (topic)
            {
                if (topic.Retired)
                {
                    continue;
                }

                AppendDelta(topic, runId, messageId, agent, text);
                return;
            }
        }
    }

    private static void AppendDelta(Topic topic, Guid runId, Guid messageId, string agent, string text)
    {
        if (!topic.Partials.TryGetValue(messageId, out var partial))
        {
            partial = new PartialText(runId, messageId, agent);
            topic.Partials[messageId] = partial;
        }

        partial.Text.Append(text);
        Broadcast(topic, new FeedDelta(runId, messageId, agent, text));
    }

    internal int SubscriberCount(Guid sessionId) =>
        _topics.TryGetValue(sessionId, out var topic) ? topic.Subscribers.Count : 0;

    /// <summary>The sessions someone on this node watches now (a moment's view).</summary>
    internal IReadOnlyList<Guid> WatchedSessions() =>
        _topics.Where(t => t.Value.Subscribers.Count > 0).Select(t => t.Key).ToList();

    private static void ForgetFinishedText(Topic topic, object data)
    {
        switch (data)
        {
            case AgentMessageCompleted completed:
                topic.Partials.Remove(completed.MessageId);
                break;
            case IRunEnded ended:
                foreach (var id in topic.Partials.Values.Where(p => p.RunId == ended.RunId).Select(p => p.MessageId).ToList())
                {
                    topic.Partials.Remove(id);
                }

                break;
        }
    }

    private static void Broadcast(Topic topic, FeedItem item)
    {
        for (var i = topic.Subscribers.Count - 1; i >= 0; i--)
        {
            var subscriber = topic.Subscribers[i];
            if (!subscriber.Writer.TryWrite(item))
            {
                // Too slow to keep up: end its feed; it resumes from its last version without loss.
                subscriber.Writer.TryComplete(new SubscriberOverflowException());
                topic.Subscribers.RemoveAt(i);
            }
        }
    }

    private void Unsubscribe(Guid sessionId, Topic topic, Channel<FeedItem> channel)
    {
        lock (topic)
        {
            topic.Subscribers.Remove(channel);
            channel.Writer.TryComplete();
            RetireIfIdle(sessionId, topic);
        }
    }

    /// <summary>A topic with no listeners and no text in flight is dropped, so idle sessions cost nothing.
    /// Called under the topic's lock.</summary>
    private void RetireIfIdle(Guid sessionId, Topic topic)
    {
        if (topic.Subscribers.Count == 0 && topic.Partials.Count == 0)
        {
            topic.Retired = true;
            _topics.TryRemove(new KeyValuePair<Guid, Topic>(sessionId, topic));
        }
    }

    private sealed class Topic
    {
        public List<Channel<FeedItem>> Subscribers { get; } = [];
        public Dictionary<Guid, PartialText> Partials { get; } = [];
        public bool Retired { get; set; }
    }

    private sealed class PartialText(Guid runId, Guid messageId, string agent)
    {
        public Guid RunId { get; } = runId;
        public Guid MessageId { get; } = messageId;
        public StringBuilder Text { get; } = new();

        public FeedPartial Snapshot() => new(RunId, MessageId, agent, Text.ToString());
    }
}

internal sealed class Subscription(ChannelReader<FeedItem> reader, IReadOnlyList<FeedPartial> partials, Action unsubscribe)
    : IDisposable
{
    public ChannelReader<FeedItem> Reader { get; } = reader;

    /// <summary>Text of messages in flight at the moment of subscribing; deltas after it follow in the reader.</summary>
    public IReadOnlyList<FeedPartial> Partials { get; } = partials;

    public void Dispose() => unsubscribe();
}

internal sealed class SubscriberOverflowException()
    : Exception("The subscriber fell too far behind the live feed; reconnect from the last event id.");
