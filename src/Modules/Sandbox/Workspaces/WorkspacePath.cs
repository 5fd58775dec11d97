using System.Runtime.InteropServices;
using Conclave.Sandbox.Contracts;
using Microsoft.Win32.SafeHandles;

namespace Conclave.Sandbox.Workspaces;

/// <summary>
/// Turns a user- or LLM-supplied relative path into a path inside a session's workspace, or throws
/// <see cref="WorkspacePathException"/>. Syntax is checked first (no traversal, no absolute or encoded
/// forms), then the real path is resolved with symlinks followed, because code in the sandbox can
/// create a symlink pointing anywhere on the Host.
/// </summary>
internal static partial class WorkspacePath
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

    /// <summary>
    /// The full path of <paramref name="relative"/> under <paramref name="root"/> (a real path, no symlinks),
    /// after checking that its real location (symlinks followed, missing tail allowed) stays inside root.
    /// </summary>
    public static string Resolve(string root, string relative)
    {
        var segments = Parse(relative);
        var full = Path.Join(root, string.Join('/', segments));
        EnsureInside(root, full, relative);
        return full;
    }

    /// <summary>Checks where <paramref name="full"/> really leads; throws when that is outside <paramref name="root"/>.</summary>
    public static void EnsureInside(string root, string full, string shownPath)
    {
        var real = RealPathAllowingMissingTail(full, shownPath);
        if (!IsInside(root, real))
        {
            throw new WorkspacePathException(shownPath, "it leads outside the workspace");
        }
    }

    /// <summary>
    /// Checks the file an open handle really refers to (through /proc/self/fd), which closes the race
    /// between resolving a path and opening it while code in the sandbox swaps folders for symlinks.
    /// </summary>
    public static void EnsureOpenedInside(string root, SafeFileHandle handle, string shownPath)
    {
        var link = new FileInfo($"/proc/self/fd/{handle.DangerousGetHandle()}").LinkTarget;
        if (link is null || !IsInside(root, link))
        {
            throw new WorkspacePathException(shownPath, "it leads outside the workspace");
        }
    }

    /// <summary>True for <paramref name="root"/> itself and anything below it.</summary>
    public static bool IsInside(string root, string candidate)
    {
        var trimmed = root.TrimEnd('/');
        return candidate == trimmed || candidate.StartsWith(trimmed + "/", StringComparison.Ordinal);
    }

    /// <summary>realpath(3), or null when the path does not exist.</summary>
    public static string? RealPath(string path, string shownPath)
    {
        var resolved = realpath(path, IntPtr.Zero);
        if (resolved == IntPtr.Zero)
        {
            var errno = Marshal.GetLastPInvokeError();
            return errno switch
            {
                Enoent or Enotdir => null,
                Eloop => throw new WorkspacePathException(shownPath, "it contains a symlink loop"),
                _ => throw new IOException($"realpath failed with errno {errno}."),
            };
        }
        try
        {
            return Marshal.PtrToStringUTF8(resolved)!;
        }
        finally
        {
            free(resolved);
        }
    }

    private static string RealPathAllowingMissingTail(string full, string shownPath)
    {
        var missing = new Stack<string>();
        var existing = full;
        while (true)
        {
            var real = RealPath(existing, shownPath);
            if (real is not null)
            {
                // Components that do not exist cannot be symlinks, except dangling ones: refuse those.
                var path = real;
                foreach (var segment in missing)
                {
                    path = Path.Join(path, segment);
                    if (new FileInfo(path).LinkTarget is not null)
                    {
                        throw new WorkspacePathException(shownPath, "it goes through a symlink that leads nowhere");
                    }
                }
                return path;
            }
            missing.Push(Path.GetFileName(existing));
            existing = Path.GetDirectoryName(existing)
                ?? throw new WorkspacePathException(shownPath, "it does not lead into the workspace");
        }
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

    private const int Enoent = 2;
    private const int Enotdir = 20;
    private const int Eloop = 40;

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr realpath(string path, IntPtr resolved);

    [LibraryImport("libc")]
    private static partial void free(IntPtr pointer);
}
