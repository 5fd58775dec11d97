using System.Text;
using Conclave.Sessions.Contracts;

namespace Conclave.Host.Components.Timeline;

/// <summary>What the session page shows, folded from the feed: persisted entries plus text still streaming.</summary>
public sealed class TimelineState
{
    private readonly List<TimelineEntry> _entries = [];
    private readonly Dictionary<Guid, StreamingMessage> _streaming = [];

    public IReadOnlyList<TimelineEntry> Entries => _entries;

    public IEnumerable<StreamingMessage> Streaming => _streaming.Values;

    public long LastVersion { get; private set; }

    public bool IsRunActive { get; private set; }

    /// <summary>The run queued last; the one a Stop applies to while <see cref="IsRunActive"/>.</summary>
    public Guid? ActiveRunId { get; private set; }

    public string? Title { get; private set; }

    public bool Deleted { get; private set; }

    public void Apply(FeedItem item)
    {
        switch (item)
        {
            case FeedEvent { Event: var e } when e.Version > LastVersion:
                LastVersion = e.Version;
                Apply(e);
                break;
            case FeedPartial p:
                _streaming[p.MessageId] = new StreamingMessage(p.MessageId, p.Agent, new StringBuilder(p.Text));
                break;
            case FeedDelta d:
                if (!_streaming.TryGetValue(d.MessageId, out var message))
                {
                    message = new StreamingMessage(d.MessageId, d.Agent, new StringBuilder());
                    _streaming[d.MessageId] = message;
                }

                message.Text.Append(d.Text);
                break;
        }
    }

    private void DropStreamingText() => _streaming.Clear();

    private void Apply(SessionEvent e)
    {
        switch (e.Data)
        {
            case SessionStarted started:
                Title = started.Title;
                break;
            case SessionRenamed renamed:
                Title = renamed.Title;
                break;
            case SessionDeleted:
                Deleted = true;
                break;
            case UserMessagePosted posted:
                _entries.Add(new TimelineEntry(e.Version, EntryKind.User, "You", posted.Text, e.At));
                break;
            case RunQueued queued:
                IsRunActive = true;
                ActiveRunId = queued.RunId;
                break;
            case AgentMessageCompleted completed:
                _streaming.Remove(completed.MessageId);
                _entries.Add(new TimelineEntry(e.Version, EntryKind.Agent, completed.Agent, completed.Text, e.At)
                {
                    Usage = completed.Usage,
                    MessageId = completed.MessageId,
                });
                break;
            case RunCompleted:
                IsRunActive = false;
                break;
            case RunCancelled cancelled:
                IsRunActive = false;
                DropStreamingText();
                _entries.Add(new TimelineEntry(e.Version, EntryKind.Notice, "Stopped", cancelled.Reason, e.At));
                break;
            case RunFailed failed:
                IsRunActive = false;
                DropStreamingText();
                _entries.Add(new TimelineEntry(e.Version, EntryKind.Error, "Run failed", failed.Reason, e.At));
                break;
        }
    }
}

public enum EntryKind
{
    User,
    Agent,
    Error,
    Notice,
}

public sealed record TimelineEntry(long Version, EntryKind Kind, string Author, string Text, DateTimeOffset At)
{
    public TokenUsage? Usage { get; init; }
    public Guid? MessageId { get; init; }
}

public sealed record StreamingMessage(Guid MessageId, string Agent, StringBuilder Text);
