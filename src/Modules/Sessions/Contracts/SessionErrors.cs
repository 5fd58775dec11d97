namespace Conclave.Sessions.Contracts;

/// <summary>The session does not exist, was deleted, or belongs to someone else.</summary>
public sealed class SessionNotFoundException(Guid sessionId)
    : Exception($"Session {sessionId} was not found.")
{
    public Guid SessionId { get; } = sessionId;
}

/// <summary>Input a user can fix; the message says how.</summary>
public sealed class SessionValidationException(string field, string message) : Exception(message)
{
    public string Field { get; } = field;
}

/// <summary>A quota of the user's is used up; nothing was started. <see cref="RetryAfter"/>: when it renews, if known.</summary>
public sealed class QuotaExceededException(string message, TimeSpan? retryAfter) : Exception(message)
{
    public TimeSpan? RetryAfter { get; } = retryAfter;
}
