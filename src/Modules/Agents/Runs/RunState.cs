using Conclave.Agents.Contracts;
using Conclave.Sessions.Contracts;

namespace Conclave.Agents.Runs;

/// <summary>
/// Where a run stands, folded from the session log alone (<see cref="Apply"/> one event at a time),
/// so a run resumed on another node, or after a restart, continues exactly where it was.
/// </summary>
internal sealed class RunState(Guid runId)
{
    public Guid RunId { get; } = runId;

    public RunStatus Status { get; private set; }

    /// <summary>The version of the run's RunQueued: the conversation the run answers ends there.</summary>
    public long QueuedVersion { get; private set; }

    public string OwnerId { get; private set; } = "";

    /// <summary>The trace of the request that queued the run, which every execution of it continues.</summary>
    public string? TraceParent { get; private set; }

    public RunOverrides? Limits { get; private set; }

    /// <summary>The session's team when the run was queued (null: the default team).</summary>
    public Guid? TeamId { get; private set; }

    /// <summary>The team as it was when the run first started (JSON), so a resumed run keeps its team.</summary>
    public string? TeamSnapshot { get; private set; }

    public bool Started { get; private set; }

    /// <summary>Working time so far (pauses excluded), up to <paramref name="now"/>.</summary>
    public TimeSpan ActiveTime(DateTimeOffset now) => _activeBefore + (_segmentStart is { } start ? now - start : TimeSpan.Zero);

    /// <summary>Agent messages in this run.</summary>
    public int Turns { get; private set; }

    /// <summary>The run's model calls so far (messages and speaker selections).</summary>
    public UsageTally Usage { get; private set; } = UsageTally.None;

    public string? LastSpeaker { get; private set; }

    /// <summary>The agent the last speaker handed over to, when it called a transfer tool.</summary>
    public string? HandoffTo { get; private set; }

    /// <summary>The last message of the run called tools (its speaker goes on with their results).</summary>
    public bool LastMessageCalledTools { get; private set; }

    /// <summary>The last agent message of the run, if it called no tools.</summary>
    public AgentMessageCompleted? LastAnswer { get; private set; }

    /// <summary>Tool calls asked for and not yet answered, in order.</summary>
    public IReadOnlyList<ToolCallRequested> PendingCalls => _pending;

    /// <summary>
    /// Every passage <c>search_knowledge</c> gave an agent in the session so far (this run's and earlier
    /// runs'), by the number it was given: what an answer's [n] refers to.
    /// </summary>
    public IReadOnlyDictionary<int, Citation> Passages => _passages;

    /// <summary>The number the next passage given gets: numbers go on across searches and runs, unique in the session.</summary>
    public int NextPassageNumber => _passages.Count == 0 ? 1 : _passages.Keys.Max() + 1;

    /// <summary>The user's answer to the approval of a call of this run, if any: granted, or denied with why.</summary>
    public ApprovalOutcome? ApprovalOf(string callId) => _approvals.GetValueOrDefault(callId);

    /// <summary>Whether this run already asked for the approval of the call.</summary>
    public bool ApprovalAsked(string callId) => _asked.Contains(callId);

    /// <summary>Tools the user allowed for the rest of the session ("always allow"), in any run of it.</summary>
    public bool AlwaysAllowed(string tool) => _alwaysAllowed.Contains(tool);

    /// <summary>Calls answered with a correction (unknown tool, bad arguments) in this run.</summary>
    public int Rejections { get; private set; }

    /// <summary>How often each tool + arguments was asked for in this run.</summary>
    public int RepeatsOf(string tool, string arguments) => _calls.GetValueOrDefault(CallKey(tool, arguments));

    /// <summary>How often an agent said exactly this text in this run.</summary>
    public int RepeatsOfMessage(string agent, string text) => _messages.GetValueOrDefault(agent + "\n" + text.Trim());

    private readonly List<ToolCallRequested> _pending = [];
    private readonly Dictionary<string, int> _calls = [];
    private readonly Dictionary<string, int> _messages = [];
    private readonly Dictionary<int, Citation> _passages = [];
    private readonly Dictionary<string, ApprovalOutcome> _approvals = [];
    private readonly HashSet<string> _asked = [];
    private readonly HashSet<string> _alwaysAllowed = [];
    private TimeSpan _activeBefore;
    private DateTimeOffset? _segmentStart;
    private Guid? _sessionTeam;

    public static RunState From(IEnumerable<SessionEvent> history, Guid runId)
    {
        var state = new RunState(runId);
        foreach (var e in history)
        {
            state.Apply(e);
        }

        return state;
    }

    public void Apply(SessionEvent e)
    {
        if (e.Data is SessionTeamChanged changed && QueuedVersion == 0)
        {
            _sessionTeam = changed.TeamId;
        }

        if (e.Data is ToolCallCompleted { Passages: { } passages })
        {
            foreach (var passage in passages)
            {
                _passages[passage.Number] = passage;
            }
        }

        if (e.Data is ToolApprovalGranted { AlwaysInSession: true } always)
        {
            _alwaysAllowed.Add(always.Tool);
        }

        if (e.Data is not IRunEvent run || run.RunId != RunId)
        {
            return;
        }

        Status = RunHistory.Next(Status, run);
        switch (run)
        {
            case RunQueued q:
                QueuedVersion = e.Version;
                TraceParent = q.TraceParent;
                OwnerId = q.OwnerId ?? "";
                Limits = q.Limits;
                TeamId = _sessionTeam;
                break;
            case RunStarted s:
                Started = true;
                TeamSnapshot ??= s.TeamSnapshot;
                _segmentStart ??= s.At;
                break;
            case RunResumed r:
                _segmentStart = r.At;
                break;
            case RunPaused p:
                if (_segmentStart is { } start)
                {
                    _activeBefore += p.At - start;
                }

                _segmentStart = null;
                break;
            case AgentMessageCompleted m:
                Turns++;
                Usage = Usage.Add(m.Usage, m.Cost);
                LastSpeaker = m.Agent;
                HandoffTo = null;
                LastMessageCalledTools = false;
                LastAnswer = m;
                if (m.Text.Trim().Length > 0)
                {
                    Count(_messages, m.Agent + "\n" + m.Text.Trim());
                }

                break;
            case SpeakerSelected s:
                Usage = Usage.Add(s.Usage, s.Cost);
                break;
            case ToolCallRequested call:
                _pending.Add(call);
                LastMessageCalledTools = true;
                LastAnswer = null;
                Count(_calls, CallKey(call.Tool, call.Arguments));
                break;
            case ToolApprovalRequested asked:
                _asked.Add(asked.CallId);
                break;
            case ToolApprovalGranted granted:
                _approvals[granted.CallId] = new ApprovalOutcome(true, null, false);
                break;
            case ToolApprovalDenied denied:
                _approvals[denied.CallId] = new ApprovalOutcome(false, denied.Reason, denied.TimedOut);
                break;
            case ToolCallCompleted done:
                _pending.RemoveAll(p => p.CallId == done.CallId);
                if (done.Outcome == ToolOutcome.Rejected)
                {
                    Rejections++;
                }
                else if (done.Tool.StartsWith(ToolNames.TransferPrefix, StringComparison.Ordinal))
                {
                    HandoffTo = done.Tool[ToolNames.TransferPrefix.Length..];
                }

                break;
        }
    }

    private static void Count(Dictionary<string, int> counts, string key) => counts[key] = counts.GetValueOrDefault(key) + 1;

    private static string CallKey(string tool, string arguments) => tool + "\n" + Normalize(arguments);

    /// <summary>The same arguments with other whitespace or key order are the same call.</summary>
    private static string Normalize(string arguments)
    {
        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(arguments);
            if (document.RootElement.ValueKind != System.Text.Json.JsonValueKind.Object)
            {
                return arguments.Trim();
            }

            return string.Join("\n", document.RootElement.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal).Select(p => p.Name + "=" + p.Value.GetRawText()));
        }
        catch (System.Text.Json.JsonException)
        {
            return arguments.Trim();
        }
    }
}

/// <summary>How the user answered an approval: granted, or denied (with the reason, or because it timed out).</summary>
internal sealed record ApprovalOutcome(bool Granted, string? Reason, bool TimedOut);
