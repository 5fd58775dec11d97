using Conclave.Sandbox.Contracts;

namespace Conclave.Sandbox.Workspaces;

/// <summary>
/// Checks the syntax of a user- or LLM-supplied workspace path (no traversal, no absolute or encoded
/// forms) and splits it into segments, or throws <see cref="WorkspacePathException"/>. Where the path
/// leads is left to the kernel (<see cref="WorkspaceTree"/>), which resolves it beneath the workspace
/// root without following any symlink.
/// </summary>
internal static class WorkspacePath
{
    private const int MaxLength = 1024;
    private const int MaxSegmentLength = 255;

    /// <summary>The '/'-separated segments of a syntactically safe relative path.</summary>
    public static string[] Parse(string? path)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            throw new WorkspacePathException(path ?? "", "the path is empty");
        }
        if (path.Length > MaxLength)
        {
            throw new WorkspacePathException(path, $"it is longer than {MaxLength} characters");
        }
        RejectUnsafeCharacters(path, path);
        // Percent-encoded forms (%2e%2e%2f, %252e, %5c, %00) are rejected, whatever decodes to something unsafe.
        var decoded = path;
        for (var round = 0; round < 3 && decoded.Contains('%'); round++)
        {
            var next = Uri.UnescapeDataString(decoded);
            if (next == decoded)
            {
                break;
            }
            decoded = next;
            try
            {
                RejectUnsafeCharacters(path, decoded);
                CheckSegments(path, decoded);
            }
            catch (WorkspacePathException)
            {
                throw new WorkspacePathException(path, "it contains an encoded traversal, separator or control character");
            }
        }
        return CheckSegments(path, path);
    }

    private static void RejectUnsafeCharacters(string original, string path)
    {
        foreach (var c in path)
        {
            if (c == '\0' || char.IsControl(c))
            {
                throw new WorkspacePathException(original, "it contains a control character");
            }
            if (c == '\\')
            {
                throw new WorkspacePathException(original, "it contains a backslash; use '/'");
            }
        }
        if (path.StartsWith('/') || path.StartsWith('~') || (path.Length >= 2 && path[1] == ':'))
        {
            throw new WorkspacePathException(original, "it is absolute; give a path relative to the workspace");
        }
    }

    private static string[] CheckSegments(string original, string path)
    {
        var segments = path.Split('/');
        foreach (var segment in segments)
        {
            if (segment.Length == 0)
            {
                throw new WorkspacePathException(original, "it has an empty segment");
            }
            if (segment is "." or "..")
            {
                throw new WorkspacePathException(original, "it contains '.' or '..'");
            }
            if (segment.Length > MaxSegmentLength)
            {
                throw new WorkspacePathException(original, $"a name is longer than {MaxSegmentLength} characters");
            }
        }
        return segments;
    }
}
