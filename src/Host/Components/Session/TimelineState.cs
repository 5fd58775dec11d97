using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Conclave.Agents.Contracts;
using Conclave.Sessions.Contracts;

namespace Conclave.Host.Components.Session;

/// <summary>What the session page shows, folded from the feed: persisted entries plus text still streaming.</summary>
public sealed partial class TimelineState
{
    private readonly List<TimelineEntry> _entries = [];
    private readonly Dictionary<Guid, StreamingMessage> _streaming = [];
    private readonly Dictionary<string, TimelineEntry> _calls = []; // until they complete: their approval and result are still to come
    private readonly Dictionary<string, string> _colors = [];
    private readonly Dictionary<Guid, KnowledgeDocumentChanged> _documents = [];
    private readonly Dictionary<Guid, ControlWords> _controlWords = [];
    private readonly Dictionary<string, string> _names = [];

    public IReadOnlyList<TimelineEntry> Entries => _entries;

    public IEnumerable<StreamingMessage> Streaming => _streaming.Values;

    public long LastVersion { get; private set; }

    /// <summary>The documents of the session's own knowledge, each as last heard of (state, progress, failure).</summary>
    public IEnumerable<KnowledgeDocumentChanged> Documents => _documents.Values;

    public bool IsRunActive => RunStatus.IsGoing() || RunStatus is RunStatus.Paused or RunStatus.AwaitingApproval;

    /// <summary>Calls waiting for the user's approval, oldest first.</summary>
    public IEnumerable<TimelineEntry> PendingApprovals => _calls.Values.Where(c => c.Tool?.Approval?.State == ApprovalState.Pending);

    /// <summary>The run queued last: the one Stop, Pause and Resume apply to.</summary>
    public Guid? ActiveRunId { get; private set; }

    /// <summary>Where the last run stands (<see cref="RunHistory"/>'s reading).</summary>
    public RunStatus RunStatus { get; private set; } = RunStatus.None;

    /// <summary>Usage of the last run so far.</summary>
    public UsageTally RunUsage { get; private set; } = UsageTally.None;

    /// <summary>Usage of the whole session.</summary>
    public UsageTally SessionUsage { get; private set; } = UsageTally.None;

    public string? Title { get; private set; }

    /// <summary>The team chosen in this session's log, if any (else the one the session was read with).</summary>
    public Guid? TeamId { get; private set; }

    /// <summary>Nothing said yet: the page welcomes the user instead.</summary>
    public bool IsEmpty => !_entries.Any(e => e.Kind is EntryKind.User or EntryKind.Agent) && _streaming.Count == 0;

    public bool Deleted { get; private set; }

    public int SupersededCount => _entries.Count(e => e.Superseded);

    /// <summary>The user's last message still in the conversation: the one that can be edited.</summary>
    public TimelineEntry? LastUserEntry => _entries.LastOrDefault(e => e.Kind == EntryKind.User && !e.Superseded);

    /// <summary>The colour an agent's messages are marked with (its team's choice, else one derived from its name).</summary>
    public string ColorOf(string agent) => _colors.GetValueOrDefault(agent) ?? AgentColors.Derived(agent);

    /// <summary>What a message still being written shows: its text without the run's control words.</summary>
    public string Shown(StreamingMessage message) => Shown(message.RunId, message.Agent, message.Text.ToString());

    private string Shown(Guid runId, string agent, string text) =>
        _controlWords.TryGetValue(runId, out var words) ? words.Hide(agent, text) : text;

    public void Apply(FeedItem item)
    {
        switch (item)
        {
            case FeedEvent { Event: var e } when e.Version > LastVersion:
                LastVersion = e.Version;
                Apply(e);
                break;
            case FeedPartial p:
                _streaming[p.MessageId] = new StreamingMessage(p.RunId, p.MessageId, p.Agent, new StringBuilder(p.Text));
                break;
            case FeedDelta d:
                if (!_streaming.TryGetValue(d.MessageId, out var message))
                {
                    message = new StreamingMessage(d.RunId, d.MessageId, d.Agent, new StringBuilder());
                    _streaming[d.MessageId] = message;
                }

                message.Text.Append(d.Text);
                break;
        }
    }

    private void Apply(SessionEvent e)
    {
        if (e.Data is RunQueued queued)
        {
            ActiveRunId = queued.RunId;
            RunStatus = RunStatus.None;
            RunUsage = UsageTally.None;
        }

        var ofActiveRun = e.Data is IRunEvent run && run.RunId == ActiveRunId;
        if (ofActiveRun)
        {
            RunStatus = RunHistory.Next(RunStatus, (IRunEvent)e.Data);
        }

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
            case SessionTeamChanged team:
                TeamId = team.TeamId;
                Add(e, EntryKind.Notice, "Team", $"The team for the next runs is **{team.TeamName}**.");
                break;
            case UserMessagePosted posted:
                Add(e, EntryKind.User, "You", posted.Text).MessageId = posted.MessageId;
                break;
            case UserMessageEdited edited:
                foreach (var earlier in _entries)
                {
                    if (Conversation.Supersedes(edited, e.Version, earlier.Version, earlier.InConversation))
                    {
                        earlier.Superseded = true;
                    }
                }

                Add(e, EntryKind.User, "You", edited.Text).MessageId = edited.MessageId;
                _entries[^1].Edited = true;
                break;
            case RunStarted started:
                if (ControlWords.Of(started.TeamSnapshot) is { } words)
                {
                    _controlWords[started.RunId] = words;
                }

                if (ofActiveRun)
                {
                    LearnColors(started.TeamSnapshot);
                }

                break;
            case RunPaused when ofActiveRun:
                Add(e, EntryKind.Notice, "Paused", "The run is paused. Resume it to go on from here.");
                break;
            case RunRequeued requeued when ofActiveRun:
                Add(e, EntryKind.Notice, "Resumed elsewhere", requeued.Reason);
                break;
            case SpeakerSelected selected:
                Count(selected.RunId, selected.Usage, selected.Cost);
                break;
            case AgentMessageCompleted completed:
                _streaming.Remove(completed.MessageId);
                Count(completed.RunId, completed.Usage, completed.Cost);
                if (completed.Text.Length > 0)
                {
                    var entry = Add(e, EntryKind.Agent, completed.Agent, Shown(completed.RunId, completed.Agent, completed.Text));
                    entry.Usage = completed.Usage;
                    entry.Cost = completed.Cost;
                    entry.MessageId = completed.MessageId;
                    entry.Model = Shared(completed.Model);
                }

                break;
            case MessageCited cited when AnswerOf(cited.MessageId) is { } answer:
                answer.Citations = cited.Citations;
                break;
            case KnowledgeDocumentChanged { State: KnowledgeDocumentState.Removed } removed:
                _documents.Remove(removed.DocumentId);
                break;
            case KnowledgeDocumentChanged document:
                _documents[document.DocumentId] = document;
                break;
            case ToolCallRequested call:
                var tool = Add(e, EntryKind.Tool, call.Agent, "");
                tool.Tool = new ToolCallView(call.CallId, Shared(call.Tool), PrettyJson(call.Arguments));
                _calls[call.CallId] = tool;
                break;
            case ToolApprovalRequested asked when _calls.TryGetValue(asked.CallId, out var waiting):
                waiting.Tool = waiting.Tool! with { Approval = new ApprovalView(asked.RunId, ApprovalState.Pending, asked.ExpiresAt) };
                break;
            case ToolApprovalGranted granted when _calls.TryGetValue(granted.CallId, out var approved) && approved.Tool!.Approval is { } was:
                approved.Tool = approved.Tool with { Approval = was with { State = ApprovalState.Approved, Always = granted.AlwaysInSession } };
                break;
            case ToolApprovalDenied denied when _calls.TryGetValue(denied.CallId, out var refused) && refused.Tool!.Approval is { } before:
                refused.Tool = refused.Tool with
                {
                    Approval = before with { State = denied.TimedOut ? ApprovalState.TimedOut : ApprovalState.Denied, Reason = denied.Reason },
                };
                break;
            case ToolCallCompleted done when _calls.Remove(done.CallId, out var pending):
                pending.Tool = pending.Tool! with { Output = done.Output, Outcome = done.Outcome, Images = done.Images, Duration = done.Duration };
                break;
            case RunCompleted { Reason: { } reason } when ofActiveRun:
                Add(e, EntryKind.Notice, "Run ended", reason);
                break;
            case RunCancelled cancelled:
                Add(e, EntryKind.Notice, "Stopped", cancelled.Reason);
                break;
            case RunFailed failed:
                Add(e, EntryKind.Error, failed.Orphaned ? "Run orphaned" : "Run failed", failed.Reason);
                break;
        }

        if (e.Data is IRunEnded ended)
        {
            // Whatever the run was still writing will not be finished.
            foreach (var id in _streaming.Values.Where(m => m.RunId == ended.RunId).Select(m => m.MessageId).ToList())
            {
                _streaming.Remove(id);
            }
        }
    }

    /// <summary>
    /// Lets go of the texts of the messages before <paramref name="version"/>, which the page does not draw:
    /// each tab open on a long session would otherwise hold its whole conversation (ADR 0014, "Circuit memory").
    /// <see cref="Unfold"/> puts them back from the log when the reader asks for earlier entries.
    /// </summary>
    public void FoldTextsBefore(long version)
    {
        foreach (var entry in _entries)
        {
            if (entry.Version >= version)
            {
                break;
            }

            if (entry.Kind is EntryKind.User or EntryKind.Agent)
            {
                entry.Text = "";
                entry.Folded = true;
            }
        }
    }

    /// <summary>Whether an entry from <paramref name="fromVersion"/> up to (not including) <paramref name="toVersion"/> is folded.</summary>
    public bool AnyFolded(long fromVersion, long toVersion) =>
        _entries.Any(e => e.Folded && e.Version >= fromVersion && e.Version < toVersion);

    /// <summary>Puts back the texts of folded entries from their events, read from the log again.</summary>
    public void Unfold(IEnumerable<SessionEvent> events)
    {
        foreach (var e in events)
        {
            if (EntryAt(e.Version) is not { Folded: true } entry)
            {
                continue;
            }

            entry.Text = e.Data switch
            {
                UserMessagePosted posted => posted.Text,
                UserMessageEdited edited => edited.Text,
                AgentMessageCompleted completed => Shown(completed.RunId, completed.Agent, completed.Text),
                _ => entry.Text,
            };
            entry.Folded = false;
        }
    }

    /// <summary>The entry an event made, if it made one (entries are in version order).</summary>
    private TimelineEntry? EntryAt(long version)
    {
        int low = 0, high = _entries.Count - 1;
        while (low <= high)
        {
            var middle = (low + high) / 2;
            var at = _entries[middle].Version;
            if (at == version)
            {
                return _entries[middle];
            }

            if (at < version)
            {
                low = middle + 1;
            }
            else
            {
                high = middle - 1;
            }
        }

        return null;
    }

    /// <summary>
    /// Adds the entry an event makes. The event itself is not kept: an open page holds its entries, not the
    /// log (the supersede rule needs only whether the event was part of the conversation).
    /// </summary>
    private TimelineEntry Add(SessionEvent e, EntryKind kind, string author, string text)
    {
        var entry = new TimelineEntry(e.Version, kind, Shared(author), text, e.At) { InConversation = Conversation.IsConversation(e.Data) };
        _entries.Add(entry);
        return entry;
    }

    /// <summary>
    /// One instance of a name that recurs in every entry (an agent's, a model's, a tool's): each event read
    /// from the log brings its own copy, and a long session would keep them all.
    /// </summary>
    private string Shared(string name)
    {
        if (_names.TryGetValue(name, out var shared))
        {
            return shared;
        }

        _names[name] = name;
        return name;
    }

    /// <summary>The answer a citation event is about: written just before it, so looked for from the end (no index kept for the rare event).</summary>
    private TimelineEntry? AnswerOf(Guid messageId)
    {
        for (var i = _entries.Count - 1; i >= 0; i--)
        {
            if (_entries[i].MessageId == messageId && _entries[i].Kind == EntryKind.Agent)
            {
                return _entries[i];
            }
        }

        return null;
    }

    private void Count(Guid runId, TokenUsage usage, decimal? cost)
    {
        SessionUsage = SessionUsage.Add(usage, cost);
        if (runId == ActiveRunId)
        {
            RunUsage = RunUsage.Add(usage, cost);
        }
    }

    /// <summary>The team's colours, from the members its run started with (an older or foreign snapshot gives none).</summary>
    private void LearnColors(string? teamSnapshot)
    {
        foreach (var agent in TeamSnapshot.MembersOf(teamSnapshot))
        {
            // Only a plain hex colour goes into a style attribute.
            if (agent is { Name: { } name, Color: { } color } && HexColor().IsMatch(color))
            {
                _colors[name] = color;
            }
        }
    }

    /// <summary>Arguments to read: one text argument (code, a path) as it is, anything else as indented JSON.</summary>
    private static string PrettyJson(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object && root.EnumerateObject().Count() == 1
                && root.EnumerateObject().First().Value is { ValueKind: JsonValueKind.String } single)
            {
                return single.GetString()!;
            }

            return JsonSerializer.Serialize(root, Indented);
        }
        catch (JsonException)
        {
            return json;
        }
    }

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    [GeneratedRegex("^#[0-9a-fA-F]{6}$")]
    private static partial Regex HexColor();
}
