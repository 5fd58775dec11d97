namespace Conclave.Sessions.Contracts;

public static class SessionLimits
{
    public const int MaxMessageBytes = 32 * 1024;
    public const int MaxTitleLength = 200;
    public const int MaxEventPage = 1000;
}
