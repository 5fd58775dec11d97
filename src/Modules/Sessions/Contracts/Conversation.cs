namespace Conclave.Sessions.Contracts;

/// <summary>
/// Reads a session's history as a conversation: what an edit superseded and which message is the
/// last one. One reading for the orchestrator, the use cases and the UI.
/// </summary>
public static class Conversation
{
    /// <summary>
    /// The supersede rule: an edit (at <paramref name="editVersion"/>) takes every conversation event
    /// from the message it replaced (<see cref="UserMessageEdited.SupersededFromVersion"/>) up to itself
    /// out of the conversation. They stay in the log, shown as superseded.
    /// </summary>
    public static bool Supersedes(UserMessageEdited edit, long editVersion, SessionEvent e) =>
        Supersedes(edit, editVersion, e.Version, IsConversation(e.Data));

    /// <summary>The same rule for an event known only by its version and whether it <see cref="IsConversation"/> (a reader that did not keep the event).</summary>
    public static bool Supersedes(UserMessageEdited edit, long editVersion, long version, bool isConversation) =>
        version >= edit.SupersededFromVersion && version < editVersion && isConversation;

    /// <summary>The versions the edits in <paramref name="history"/> took out of the conversation.</summary>
    public static IReadOnlySet<long> SupersededVersions(IReadOnlyList<SessionEvent> history)
    {
        var edits = history.Where(e => e.Data is UserMessageEdited).Select(e => (Edit: (UserMessageEdited)e.Data, e.Version)).ToList();
        var superseded = new HashSet<long>();
        if (edits.Count == 0)
        {
            return superseded;
        }

        foreach (var e in history)
        {
            if (edits.Any(edit => Supersedes(edit.Edit, edit.Version, e)))
            {
                superseded.Add(e.Version);
            }
        }

        return superseded;
    }

    /// <summary>The last user message still in the conversation (posted or edited), or null.</summary>
    public static UserMessage? LastUserMessage(IReadOnlyList<SessionEvent> history)
    {
        UserMessage? last = null;
        foreach (var e in history)
        {
            last = Track(last, e);
        }

        return last;
    }

    /// <summary>The last user message after one more event (a posted or edited message replaces it).</summary>
    public static UserMessage? Track(UserMessage? last, SessionEvent e) => e.Data switch
    {
        UserMessagePosted posted => new UserMessage(posted.MessageId, e.Version, posted.Text),
        UserMessageEdited edited => new UserMessage(edited.MessageId, e.Version, edited.Text),
        _ => last,
    };

    /// <summary>Events that are part of the conversation (and can be superseded by an edit).</summary>
    public static bool IsConversation(object data) =>
        data is UserMessagePosted or UserMessageEdited or IRunEvent;
}

public sealed record UserMessage(Guid MessageId, long Version, string Text);
