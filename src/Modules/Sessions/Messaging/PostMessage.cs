using System.Diagnostics;
using Conclave.Sessions.Contracts;
using Conclave.Sessions.Lifecycle;
using Conclave.Sessions.Log;
using Conclave.Sessions.Usage;

namespace Conclave.Sessions.Messaging;

/// <summary>Post a user message: a run is queued for it and starts in the background; the call returns at once.</summary>
/// <param name="Limits">Overrides of the team's limits for this run.</param>
internal sealed record PostMessage(string OwnerId, Guid SessionId, string Text, RunOverrides? Limits)
{
    public void Validate()
    {
        MessageRules.ValidateText(Text);
        MessageRules.ValidateLimits(Limits);
    }

    /// <summary>The message and its run in the log; the request that starts the run commits with them.</summary>
    /// <param name="traceParent">The request's trace, which the run continues (null when nothing traces).</param>
    public Decision Decide(Guid messageId, Guid runId, DateTimeOffset now, string? traceParent = null) =>
        Decision.Append(new UserMessagePosted(messageId, OwnerId, Text, now), new RunQueued(runId, messageId, now, OwnerId, Limits, traceParent))
            .Send(new RunRequested(SessionId, runId, OwnerId));

    public async Task<PostedMessage> ExecuteAsync(
        SessionStream stream, OwnedSessions sessions, Quotas quotas, TimeProvider clock, CancellationToken cancellationToken)
    {
        Validate();
        await sessions.RequireAsync(OwnerId, SessionId, cancellationToken);
        await quotas.CheckAsync(OwnerId, [], cancellationToken);
        var (messageId, runId) = (Guid.CreateVersion7(), Guid.CreateVersion7());
        var committed = await stream.AppendAsync(SessionId, Decide(messageId, runId, clock.GetUtcNow(), Activity.Current?.Id), cancellationToken);
        return new PostedMessage(SessionId, messageId, runId, committed[^1].Version);
    }
}
