namespace Conclave.Host.Components;

/// <summary>"1 message", "2 messages": a count in the reader's culture with the word it agrees with.</summary>
internal static class Plural
{
    public static string Of(long count, string one, string? many = null) =>
        $"{count:N0} {(count == 1 ? one : many ?? one + "s")}";
}
