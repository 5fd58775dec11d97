using System.Text;
using Conclave.Sessions.Contracts;

namespace Conclave.Sessions.Messaging;

/// <summary>What a user message and a run's limits may be; bad input is refused before anything is appended.</summary>
internal static class MessageRules
{
    public static void ValidateText(string? text)
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

    public static void ValidateLimits(RunOverrides? limits)
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
}
