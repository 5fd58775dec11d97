using System.Globalization;
using System.Text;
using Conclave.Sessions.Contracts;

namespace Conclave.Chat.Answers;

/// <summary>
/// One run's answer as the thread shows it, built from the session feed: the agents' text (streamed,
/// then completed), a compact line per tool step, and at the end a usage line. Not thread-safe.
/// </summary>
internal sealed class AnswerDraft(Guid runId)
{
    /// <summary>What the bot shows before any text arrives.</summary>
    public const string Placeholder = "_Working…_";

    // Caps what a hostile or runaway answer may grow to in memory.
    private const int MaxTextPerMessage = 200_000;

    private readonly List<Entry> _entries = [];
    private readonly List<string> _images = [];
    private int _promptTokens;
    private int _completionTokens;
    private decimal _cost;
    private bool _costUnknown;
    private DateTimeOffset? _queuedAt;

    public IRunEnded? End { get; private set; }

    public DateTimeOffset? EndedAt { get; private set; }

    /// <summary>Workspace paths of the images the run's tools produced, in order.</summary>
    public IReadOnlyList<string> Images => _images;

    /// <summary>Takes one feed item in; true when what the thread shows may have changed.</summary>
    public bool Apply(FeedItem item)
    {
        switch (item)
        {
            case FeedPartial p when p.RunId == runId:
                Message(p.MessageId, p.Agent).Text.Clear().Append(Cap(p.Text));
                return true;
            case FeedDelta d when d.RunId == runId:
                var text = Message(d.MessageId, d.Agent).Text;
                if (text.Length < MaxTextPerMessage)
                {
                    text.Append(Cap(d.Text));
                }

                return true;
            case FeedEvent { Event: var e }:
                return ApplyEvent(e);
            default:
                return false;
        }
    }

    private bool ApplyEvent(SessionEvent e)
    {
        switch (e.Data)
        {
            case RunQueued q when q.RunId == runId:
                _queuedAt = q.At;
                return false;
            case RunStarted r when r.RunId == runId:
                _queuedAt ??= r.At;
                return false;
            case AgentMessageCompleted m when m.RunId == runId:
                var message = Message(m.MessageId, m.Agent);
                message.Text.Clear().Append(Cap(m.Text));
                message.Completed = true;
                AddUsage(m.Usage, m.Cost);
                return true;
            case SpeakerSelected s when s.RunId == runId:
                AddUsage(s.Usage, s.Cost);
                return false;
            case ToolCallRequested t when t.RunId == runId:
                _entries.Add(new ToolEntry(t.CallId, t.Tool));
                return true;
            case ToolCallCompleted t when t.RunId == runId:
                if (_entries.OfType<ToolEntry>().FirstOrDefault(x => x.CallId == t.CallId) is { } tool)
                {
                    tool.Outcome = t.Outcome;
                    tool.Duration = t.Duration;
                }

                _images.AddRange(t.Images);
                return true;
            case ToolApprovalRequested a when a.RunId == runId:
                if (_entries.OfType<ToolEntry>().FirstOrDefault(x => x.CallId == a.CallId) is { } waiting)
                {
                    waiting.AwaitingApproval = true;
                }

                return true;
            case IRunEnded ended when ended.RunId == runId:
                End = ended;
                EndedAt = ended.At;
                return true;
            default:
                return false;
        }
    }

    /// <summary>The answer so far, in the platform's format, cut to its last <paramref name="maxLength"/> characters.</summary>
    public string RenderStreaming(Func<string, string> format, int maxLength)
    {
        var text = Body(format);
        if (text.Length == 0)
        {
            return Placeholder;
        }

        return text.Length <= maxLength ? text : "…" + text[^(maxLength - 1)..];
    }

    /// <summary>The whole answer with its closing line (status, usage, time).</summary>
    public string RenderFinal(Func<string, string> format)
    {
        var body = Body(format);
        var closing = new StringBuilder("_");
        switch (End)
        {
            case RunCancelled c:
                closing.Append("Stopped: ").Append(c.Reason).Append(" · ");
                break;
            case RunFailed f:
                closing.Append("Failed: ").Append(f.Reason).Append(" · ");
                break;
        }

        closing.Append(CultureInfo.InvariantCulture, $"{_promptTokens:N0} in · {_completionTokens:N0} out tokens");
        if (_costUnknown)
        {
            closing.Append(" · cost unknown");
        }
        else if (_cost > 0)
        {
            closing.Append(CultureInfo.InvariantCulture, $" · ${_cost:0.####}");
        }

        if (_queuedAt is { } queued && EndedAt is { } ended)
        {
            closing.Append(CultureInfo.InvariantCulture, $" · {(ended - queued).TotalSeconds:0.0} s");
        }

        closing.Append('_');
        return body.Length == 0 ? closing.ToString() : body + "\n\n" + closing;
    }

    private string Body(Func<string, string> format)
    {
        var multipleAgents = _entries.OfType<MessageEntry>().Select(m => m.Agent).Distinct().Skip(1).Any();
        var lines = new List<string>();
        foreach (var entry in _entries)
        {
            switch (entry)
            {
                case MessageEntry m when m.Text.Length > 0:
                    var text = format(m.Text.ToString().Trim());
                    lines.Add(multipleAgents ? $"*{m.Agent}:* {text}" : text);
                    break;
                case ToolEntry t:
                    lines.Add(ToolLine(t));
                    break;
            }
        }

        return string.Join("\n", lines).Trim();
    }

    private static string ToolLine(ToolEntry t)
    {
        var state = t.Outcome switch
        {
            null when t.AwaitingApproval => "waiting for approval in Conclave",
            null => "running…",
            ToolOutcome.Ok => "done",
            ToolOutcome.Error => "error",
            ToolOutcome.Rejected => "rejected",
            ToolOutcome.Denied => "denied",
            _ => t.Outcome.ToString()!.ToLowerInvariant(),
        };
        var took = t.Duration is { } d ? string.Create(CultureInfo.InvariantCulture, $" ({d.TotalSeconds:0.0} s)") : "";
        return $"› `{t.Tool}` {state}{took}";
    }

    private MessageEntry Message(Guid messageId, string agent)
    {
        if (_entries.OfType<MessageEntry>().FirstOrDefault(m => m.MessageId == messageId) is { } found)
        {
            return found;
        }

        var added = new MessageEntry(messageId, agent);
        _entries.Add(added);
        return added;
    }

    private void AddUsage(TokenUsage usage, decimal? cost)
    {
        _promptTokens += usage.PromptTokens;
        _completionTokens += usage.CompletionTokens;
        if (cost is { } c)
        {
            _cost += c;
        }
        else if (usage.TotalTokens > 0)
        {
            _costUnknown = true;
        }
    }

    private static string Cap(string text) => text.Length <= MaxTextPerMessage ? text : text[..MaxTextPerMessage];

    private abstract class Entry;

    private sealed class MessageEntry(Guid messageId, string agent) : Entry
    {
        public Guid MessageId { get; } = messageId;

        public string Agent { get; } = agent;

        public StringBuilder Text { get; } = new();

        public bool Completed { get; set; }
    }

    private sealed class ToolEntry(string callId, string tool) : Entry
    {
        public string CallId { get; } = callId;

        public string Tool { get; } = tool;

        public ToolOutcome? Outcome { get; set; }

        public TimeSpan? Duration { get; set; }

        public bool AwaitingApproval { get; set; }
    }
}
