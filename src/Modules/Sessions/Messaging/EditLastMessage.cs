using System.Diagnostics;
using Conclave.Sessions.Contracts;
using Conclave.Sessions.Lifecycle;
using Conclave.Sessions.Log;
using Conclave.Sessions.Usage;

namespace Conclave.Sessions.Messaging;

/// <summary>
/// Replace the session's last user message: what followed it is superseded (a run still working on
/// it ends with it) and a new run starts on the edited history, with the limits the old one had.
/// </summary>
internal sealed record EditLastMessage(string OwnerId, Guid SessionId, Guid MessageId, string Text)
{
    public void Validate() => MessageRules.ValidateText(Text);

    /// <summary>
    /// Runs still active are cancelled in the log here and stopped on their node by a message; the edit
    /// and the new run are appended, and the request that starts it commits with them.
    /// </summary>
    public Decision Decide(ConversationTail tail, Guid editedId, Guid runId, DateTimeOffset now, string? traceParent = null)
    {
        var last = tail.LastMessage ?? throw new SessionValidationException("messageId", "The session has no message to edit.");
        if (last.MessageId != MessageId)
        {
            throw new SessionValidationException("messageId", "Only the last message of the session can be edited.");
        }

        return new Decision(
            [
                .. tail.ActiveRuns.Select(active => new RunCancelled(active, RunReasons.SupersededByEdit, now)),
                new UserMessageEdited(editedId, last.MessageId, last.Version, OwnerId, Text, now),
                new RunQueued(runId, editedId, now, OwnerId, tail.Limits, traceParent),
            ],
            [new RunRequested(SessionId, runId, OwnerId), .. tail.ActiveRuns.Select(active => new RunCancellationRequested(SessionId, active))]);
    }

    public async Task<PostedMessage> ExecuteAsync(
        SessionStream stream, SessionLog log, OwnedSessions sessions, Quotas quotas, TimeProvider clock, CancellationToken cancellationToken)
    {
        Validate();
        await sessions.RequireAsync(OwnerId, SessionId, cancellationToken);
        var tail = await ConversationTail.ReadAsync(log, SessionId, cancellationToken);
        var (editedId, runId) = (Guid.CreateVersion7(), Guid.CreateVersion7());
        var decision = Decide(tail, editedId, runId, clock.GetUtcNow(), Activity.Current?.Id);
        // The runs the edit ends do not count against the user's concurrent runs.
        await quotas.CheckAsync(OwnerId, tail.ActiveRuns, cancellationToken);
        var committed = await stream.AppendAsync(SessionId, decision, cancellationToken);
        return new PostedMessage(SessionId, editedId, runId, committed[^1].Version);
    }
}

/// <summary>What an edit needs from the log: the last user message, the runs still active, and the limits its run was queued with.</summary>
internal sealed record ConversationTail(UserMessage? LastMessage, IReadOnlyList<Guid> ActiveRuns, RunOverrides? Limits)
{
    /// <summary>Read page by page, keeping only these, never the whole stream.</summary>
    public static async Task<ConversationTail> ReadAsync(SessionLog log, Guid sessionId, CancellationToken cancellationToken)
    {
        UserMessage? last = null;
        RunOverrides? limits = null;
        var active = new List<Guid>();
        await foreach (var e in log.ReadAllAsync(sessionId, 0, cancellationToken))
        {
            if (Conversation.Track(last, e) is var message && message != last)
            {
                (last, limits) = (message, null);
            }
            else if (e.Data is RunQueued queued && queued.MessageId == last?.MessageId)
            {
                limits = queued.Limits;
            }

            RunHistory.TrackActive(active, e.Data);
        }

        return new ConversationTail(last, active, limits);
    }
}
