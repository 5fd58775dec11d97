namespace Conclave.Identity.Contracts;

/// <summary>
/// Return URLs stay on this site: a path of this origin written in printable ASCII, else home. No open
/// redirect (<c>//evil.com</c>, <c>/\evil.com</c>, <c>javascript:</c>, other origins), and no 500 from
/// a Location header that cannot carry the URL (non-ASCII such as U+3000, control characters).
/// </summary>
public static class LocalUrl
{
    /// <summary>Longer return URLs go home: ours are far shorter, and proxies refuse long Location headers.</summary>
    public const int MaxLength = 2048;

    public static string OrHome(string? url) => IsLocalPath(url) ? url : "/";

    private static bool IsLocalPath([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] string? url) =>
        url is { Length: > 0 and <= MaxLength }
        && url[0] == '/'
        && (url.Length == 1 || url[1] != '/')
        // Printable ASCII without the backslash, which browsers read as '/' ("/\evil.com" is "//evil.com").
        && url.All(c => c is > ' ' and < '\u007f' and not '\\');
}
