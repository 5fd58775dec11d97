using System.Text;
using Conclave.Sessions.Contracts;
using Conclave.Sessions.Log;
using Conclave.Sessions.Runs;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Wolverine.Marten;

namespace Conclave.Sessions.Model;

/// <summary>
/// The session use cases behind both the REST API and the UI. Validation happens before anything
/// is appended, so bad input changes nothing.
/// </summary>
internal sealed class SessionCommands(IDocumentStore store, SessionStream stream, SessionLog log, Quotas quotas, TimeProvider clock) : ISessions
{
    public async Task<SessionSummary> CreateAsync(string ownerId, string? title, CancellationToken cancellationToken)
    {
        var cleanTitle = ValidTitle(string.IsNullOrWhiteSpace(title) ? "New session" : title);
        var id = Guid.CreateVersion7();
        var started = new SessionStarted(id, ownerId, cleanTitle, clock.GetUtcNow());
        await stream.AppendAsync(id, [started], cancellationToken, start: true);
        return await RequireAsync(ownerId, id, cancellationToken);
    }

    public async Task<IReadOnlyList<SessionSummary>> ListAsync(string ownerId, CancellationToken cancellationToken)
    {
        await using var session = store.QuerySession();
        return await session.Query<SessionSummary>()
            .Where(s => s.OwnerId == ownerId && !s.Deleted)
            .OrderByDescending(s => s.UpdatedAt)
            .Take(500)
            .ToListAsync(cancellationToken);
    }

    public async Task<SessionSummary?> FindAsync(string ownerId, Guid sessionId, CancellationToken cancellationToken)
    {
        await using var session = store.QuerySession();
        var summary = await session.LoadAsync<SessionSummary>(sessionId, cancellationToken);
        return summary is { Deleted: false } && summary.OwnerId == ownerId ? summary : null;
    }

    public async Task<SessionSummary> RenameAsync(string ownerId, Guid sessionId, string title, CancellationToken cancellationToken)
    {
        var cleanTitle = ValidTitle(title);
        await RequireAsync(ownerId, sessionId, cancellationToken);
        await stream.AppendAsync(sessionId, [new SessionRenamed(cleanTitle, clock.GetUtcNow())], cancellationToken);
        return await RequireAsync(ownerId, sessionId, cancellationToken);
    }

    public async Task DeleteAsync(string ownerId, Guid sessionId, CancellationToken cancellationToken)
    {
        await RequireAsync(ownerId, sessionId, cancellationToken);
        await stream.AppendAsync(
            sessionId,
            [new SessionDeleted(clock.GetUtcNow())],
            cancellationToken,
            enlist: async (session, services) =>
            {
                // Whatever other modules keep for the session goes with it, or the deletion does not happen.
                var outbox = services.GetRequiredService<IMartenOutbox>();
                outbox.Enroll(session);
                await outbox.PublishAsync(new SessionRemoved(sessionId, ownerId));
            });
    }

    public async Task<SessionSummary> ChooseTeamAsync(string ownerId, Guid sessionId, Guid teamId, string teamName, CancellationToken cancellationToken)
    {
        await RequireAsync(ownerId, sessionId, cancellationToken);
        await stream.AppendAsync(sessionId, [new SessionTeamChanged(teamId, teamName, clock.GetUtcNow())], cancellationToken);
        return await RequireAsync(ownerId, sessionId, cancellationToken);
    }

    public async Task<PostedMessage> PostMessageAsync(
        string ownerId, Guid sessionId, string text, RunOverrides? limits, CancellationToken cancellationToken)
    {
        ValidateMessage(text);
        ValidateLimits(limits);
        await RequireAsync(ownerId, sessionId, cancellationToken);
        await quotas.CheckAsync(ownerId, [], cancellationToken);

        var now = clock.GetUtcNow();
        var messageId = Guid.CreateVersion7();
        var runId = Guid.CreateVersion7();
        var committed = await stream.AppendAsync(
            sessionId,
            [new UserMessagePosted(messageId, ownerId, text, now), new RunQueued(runId, messageId, now, ownerId, limits)],
            cancellationToken,
            enlist: (session, services) => SendRunAsync(session, services, new RunRequested(sessionId, runId, ownerId)));
        return new PostedMessage(sessionId, messageId, runId, committed[^1].Version);
    }

    public async Task<PostedMessage> EditLastMessageAsync(
        string ownerId, Guid sessionId, Guid messageId, string text, CancellationToken cancellationToken)
    {
        ValidateMessage(text);
        await RequireAsync(ownerId, sessionId, cancellationToken);
        var (last, activeRuns, limits) = await TailOfAsync(sessionId, cancellationToken);
        if (last is null)
        {
            throw new SessionValidationException("messageId", "The session has no message to edit.");
        }

        if (last.MessageId != messageId)
        {
            throw new SessionValidationException("messageId", "Only the last message of the session can be edited.");
        }

        await quotas.CheckAsync(ownerId, [.. activeRuns], cancellationToken);
        var now = clock.GetUtcNow();
        var events = new List<object>();
        // A run still working on the old message is superseded with it: ended in the log here, stopped on its node below.
        events.AddRange(activeRuns.Select(runId => new RunCancelled(runId, RunReasons.SupersededByEdit, now)));
        var editedId = Guid.CreateVersion7();
        var newRunId = Guid.CreateVersion7();
        events.Add(new UserMessageEdited(editedId, last.MessageId, last.Version, ownerId, text, now));
        events.Add(new RunQueued(newRunId, editedId, now, ownerId, limits));
        var committed = await stream.AppendAsync(
            sessionId,
            events,
            cancellationToken,
            enlist: async (session, services) =>
            {
                await SendRunAsync(session, services, new RunRequested(sessionId, newRunId, ownerId));
                var outbox = services.GetRequiredService<IMartenOutbox>();
                foreach (var runId in activeRuns)
                {
                    await outbox.PublishAsync(new RunCancellationRequested(sessionId, runId));
                }
            });
        return new PostedMessage(sessionId, editedId, newRunId, committed[^1].Version);
    }

    /// <summary>
    /// What an edit needs from the log: the last user message, the runs still active and the limits
    /// the last message's run was queued with. Read page by page, keeping only these, never the stream.
    /// </summary>
    private async Task<(UserMessage? Last, List<Guid> ActiveRuns, RunOverrides? Limits)> TailOfAsync(Guid sessionId, CancellationToken cancellationToken)
    {
        UserMessage? last = null;
        RunOverrides? limits = null;
        var active = new List<Guid>();
        await foreach (var e in log.ReadAllAsync(sessionId, 0, cancellationToken))
        {
            var previous = last;
            last = Conversation.Track(last, e);
            limits = last != previous ? null : e.Data is RunQueued queued && queued.MessageId == last?.MessageId ? queued.Limits : limits;
            RunHistory.TrackActive(active, e.Data);
        }

        return (last, active, limits);
    }

    /// <summary>The run request commits with the events or not at all (transactional outbox).</summary>
    private static async Task SendRunAsync(IDocumentSession session, IServiceProvider services, RunRequested request)
    {
        var outbox = services.GetRequiredService<IMartenOutbox>();
        outbox.Enroll(session);
        await outbox.SendAsync(request);
    }

    public async Task<IReadOnlyList<RunSummary>> RunsAsync(string ownerId, Guid sessionId, CancellationToken cancellationToken)
    {
        await RequireAsync(ownerId, sessionId, cancellationToken);
        await using var session = store.QuerySession();
        return await session.Query<RunSummary>()
            .Where(r => r.SessionId == sessionId && r.OwnerId == ownerId)
            .OrderByDescending(r => r.QueuedAt)
            .Take(200)
            .ToListAsync(cancellationToken);
    }

    public Task<UsageTotals> UsageAsync(string ownerId, DateTimeOffset since, CancellationToken cancellationToken) =>
        RunUsageQuery.OfAsync(store, ownerId, since, cancellationToken);

    public async Task<EventPage> ReadEventsAsync(string ownerId, Guid sessionId, long afterVersion, int limit, CancellationToken cancellationToken)
    {
        if (afterVersion < 0)
        {
            throw new SessionValidationException("after", "'after' must be a version number of 0 or more.");
        }

        if (limit is < 1 or > SessionLimits.MaxEventPage)
        {
            throw new SessionValidationException("limit", $"'limit' must be between 1 and {SessionLimits.MaxEventPage}.");
        }

        await RequireAsync(ownerId, sessionId, cancellationToken);
        // At most 'limit' events, and fewer when they are long (SessionLog.PageChars): a page is bounded in bytes too.
        var page = await log.ReadPageAsync(sessionId, afterVersion, limit, cancellationToken);
        return new EventPage(page.Events, page.Events.Count > 0 ? page.Events[^1].Version : afterVersion, page.HasMore);
    }

    private async Task<SessionSummary> RequireAsync(string ownerId, Guid sessionId, CancellationToken cancellationToken) =>
        await FindAsync(ownerId, sessionId, cancellationToken) ?? throw new SessionNotFoundException(sessionId);

    private static void ValidateLimits(RunOverrides? limits)
    {
        if (limits is null)
        {
            return;
        }

        if (limits.MaxTurns is < 1 or > 1000)
        {
            throw new SessionValidationException("maxTurns", "'maxTurns' must be between 1 and 1000.");
        }

        if (limits.MaxTokens is < 1)
        {
            throw new SessionValidationException("maxTokens", "'maxTokens' must be at least 1.");
        }

        if (limits.MaxCost is <= 0)
        {
            throw new SessionValidationException("maxCost", "'maxCost' must be more than 0 (US dollars).");
        }

        if (limits.MaxDuration is { } d && (d < TimeSpan.FromSeconds(1) || d > TimeSpan.FromDays(1)))
        {
            throw new SessionValidationException("maxDuration", "'maxDuration' must be between 1 second and 1 day.");
        }
    }

    private static string ValidTitle(string title)
    {
        var trimmed = title.Trim();
        if (trimmed.Length == 0)
        {
            throw new SessionValidationException("title", "The title cannot be empty.");
        }

        if (trimmed.Length > SessionLimits.MaxTitleLength)
        {
            throw new SessionValidationException("title", $"The title is longer than {SessionLimits.MaxTitleLength} characters.");
        }

        return trimmed;
    }

    private static void ValidateMessage(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new SessionValidationException("text", "The message is empty: write something for the agents.");
        }

        var bytes = Encoding.UTF8.GetByteCount(text);
        if (bytes > SessionLimits.MaxMessageBytes)
        {
            throw new SessionValidationException(
                "text",
                $"The message is {bytes / 1024.0:F1} KiB; the limit is {SessionLimits.MaxMessageBytes / 1024} KiB. Upload long material as a file instead.");
        }
    }
}
