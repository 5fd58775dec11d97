namespace Conclave.Sessions.Contracts;

public static class SessionLimits
{
    public const int MaxMessageBytes = 32 * 1024;
    public const int MaxTitleLength = 200;
    public const int MaxEventPage = 1000;

    /// <summary>The most sessions a list returns (newest first): the sidebar holds and filters them all.</summary>
    public const int MaxListedSessions = 2000;
}
