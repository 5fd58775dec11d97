using Conclave.Sessions.Contracts;
using Conclave.Sessions.Log;

namespace Conclave.Sessions.Lifecycle;

/// <summary>Start a new session; without a title it is called "New session".</summary>
internal sealed record CreateSession(string OwnerId, string? Title)
{
    public string ValidTitle() => SessionTitle.Validate(string.IsNullOrWhiteSpace(Title) ? "New session" : Title);

    public Decision Decide(Guid sessionId, DateTimeOffset now) => Decision.Append(new SessionStarted(sessionId, OwnerId, ValidTitle(), now));

    public async Task<SessionSummary> ExecuteAsync(SessionStream stream, OwnedSessions sessions, TimeProvider clock, CancellationToken cancellationToken)
    {
        ValidTitle();
        var id = Guid.CreateVersion7();
        await stream.AppendAsync(id, Decide(id, clock.GetUtcNow()), cancellationToken, start: true);
        return await sessions.RequireAsync(OwnerId, id, cancellationToken);
    }
}

/// <summary>What a session's title may be.</summary>
internal static class SessionTitle
{
    /// <summary>The title trimmed; throws <see cref="SessionValidationException"/> when it is empty or too long.</summary>
    public static string Validate(string title)
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
}
