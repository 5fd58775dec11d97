namespace Conclave.Sessions.Contracts;

/// <summary>
/// Reads a session's history as a conversation: what an edit superseded, which message is the last
/// one, which runs are still going. One reading for the orchestrator, the use cases and the UI.
/// </summary>
public static class Conversation
{
    /// <summary>The versions an edit took out of the conversation (kept in the log, shown as superseded).</summary>
    public static IReadOnlySet<long> SupersededVersions(IReadOnlyList<SessionEvent> history)
    {
        // Each edit supersedes [its SupersededFromVersion, its own version): collect the ranges, then one pass.
        var ranges = history.Where(e => e.Data is UserMessageEdited)
            .Select(e => (From: ((UserMessageEdited)e.Data).SupersededFromVersion, To: e.Version))
            .ToList();
        var superseded = new HashSet<long>();
        if (ranges.Count == 0)
        {
            return superseded;
        }

        foreach (var e in history)
        {
            if (IsConversation(e.Data) && ranges.Any(r => e.Version >= r.From && e.Version < r.To))
            {
                superseded.Add(e.Version);
            }
        }

        return superseded;
    }

    /// <summary>The last user message still in the conversation (posted or edited), or null.</summary>
    public static UserMessage? LastUserMessage(IReadOnlyList<SessionEvent> history)
    {
        for (var i = history.Count - 1; i >= 0; i--)
        {
            switch (history[i].Data)
            {
                case UserMessagePosted posted:
                    return new UserMessage(posted.MessageId, history[i].Version, posted.Text);
                case UserMessageEdited edited:
                    return new UserMessage(edited.MessageId, history[i].Version, edited.Text);
            }
        }

        return null;
    }

    /// <summary>Runs queued and not yet ended, oldest first.</summary>
    public static IReadOnlyList<Guid> ActiveRuns(IReadOnlyList<SessionEvent> history)
    {
        var active = new List<Guid>();
        foreach (var e in history)
        {
            switch (e.Data)
            {
                case RunQueued q:
                    active.Add(q.RunId);
                    break;
                case RunCompleted c:
                    active.Remove(c.RunId);
                    break;
                case RunFailed f:
                    active.Remove(f.RunId);
                    break;
                case RunCancelled x:
                    active.Remove(x.RunId);
                    break;
            }
        }

        return active;
    }

    /// <summary>Events that are part of the conversation (and can be superseded by an edit).</summary>
    public static bool IsConversation(object data) =>
        data is UserMessagePosted or UserMessageEdited or AgentMessageCompleted or ToolCallRequested or ToolCallCompleted
            or SpeakerSelected or RunQueued or RunStarted or RunCompleted or RunFailed or RunCancelled
            or RunPauseRequested or RunPaused or RunResumed or RunRequeued;
}

public sealed record UserMessage(Guid MessageId, long Version, string Text);
