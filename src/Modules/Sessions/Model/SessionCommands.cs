using System.Text;
using Conclave.Sessions.Contracts;
using Conclave.Sessions.Log;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Wolverine.Marten;

namespace Conclave.Sessions.Model;

/// <summary>
/// The session use cases behind both the REST API and the UI. Validation happens before anything
/// is appended, so bad input changes nothing.
/// </summary>
internal sealed class SessionCommands(IDocumentStore store, SessionStream stream, SessionLog log, TimeProvider clock) : ISessions
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

    public async Task<PostedMessage> PostMessageAsync(string ownerId, Guid sessionId, string text, CancellationToken cancellationToken)
    {
        ValidateMessage(text);
        await RequireAsync(ownerId, sessionId, cancellationToken);

        var now = clock.GetUtcNow();
        var messageId = Guid.CreateVersion7();
        var runId = Guid.CreateVersion7();
        var committed = await stream.AppendAsync(
            sessionId,
            [new UserMessagePosted(messageId, ownerId, text, now), new RunQueued(runId, messageId, now)],
            cancellationToken,
            enlist: async (session, services) =>
            {
                // The run request commits with the events or not at all (transactional outbox).
                var outbox = services.GetRequiredService<IMartenOutbox>();
                outbox.Enroll(session);
                await outbox.SendAsync(new RunRequested(sessionId, runId, ownerId));
            });
        return new PostedMessage(sessionId, messageId, runId, committed[^1].Version);
    }

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
        var events = await log.ReadAsync(sessionId, afterVersion, limit + 1, cancellationToken);
        var page = events.Take(limit).ToList();
        return new EventPage(page, page.Count > 0 ? page[^1].Version : afterVersion, events.Count > limit);
    }

    private async Task<SessionSummary> RequireAsync(string ownerId, Guid sessionId, CancellationToken cancellationToken) =>
        await FindAsync(ownerId, sessionId, cancellationToken) ?? throw new SessionNotFoundException(sessionId);

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
