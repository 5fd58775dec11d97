using System.Text;
using Conclave.Sandbox.Contracts;
using Microsoft.Extensions.Options;

namespace Conclave.Sandbox.Tools;

internal sealed class SandboxTools(ISandbox sandbox, IWorkspace workspace, IOptions<SandboxOptions> options) : ISandboxTools
{
    public async Task<SandboxToolAnswer> RunPythonWithOutputsAsync(Guid sessionId, string code, CancellationToken ct = default)
    {
        if (string.IsNullOrWhiteSpace(code))
        {
            return new("error: run_python needs non-empty code.", true, []);
        }
        ExecutionResult result;
        try
        {
            result = await sandbox.ExecuteAsync(sessionId, code, ct);
        }
        catch (ArgumentException e)
        {
            return new($"error: {e.Message}", true, []);
        }
        catch (SandboxLimitsNotEnforcedException e)
        {
            return new($"error: no sandbox may run here: {e.Message} Tell the user; retrying will not help.", true, []);
        }
        catch (SandboxUnavailableException e)
        {
            return new($"error: the sandbox is unavailable ({e.Message}). Try again later.", true, []);
        }
        return new(Describe(result), result.Status != ExecutionStatus.Ok, result.Images);
    }

    public async Task<string> ListFilesAsync(Guid sessionId, CancellationToken ct = default)
    {
        IReadOnlyList<WorkspaceFile> files;
        try
        {
            files = await workspace.ListAsync(sessionId, ct);
        }
        catch (SandboxUnavailableException e)
        {
            return Unreachable(e);
        }
        if (files.Count == 0)
        {
            return "The workspace is empty.";
        }
        var text = new StringBuilder($"{files.Count} file(s) in /workspace:\n");
        foreach (var file in files)
        {
            text.Append(file.Path).Append("  (").Append(file.SizeBytes).Append(" bytes)\n");
        }
        return text.ToString();
    }

    public async Task<string> ReadFileAsync(Guid sessionId, string path, CancellationToken ct = default)
    {
        try
        {
            await using var stream = await workspace.OpenReadAsync(sessionId, path, ct);
            var limit = options.Value.MaxOutputBytes;
            var buffer = new byte[limit + 1];
            var read = await stream.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, ct);
            if (buffer.AsSpan(0, read).Contains((byte)0))
            {
                return $"'{path}' is a binary file ({stream.Length} bytes); inspect it with run_python instead.";
            }
            var text = Encoding.UTF8.GetString(buffer, 0, Math.Min(read, limit));
            return read > limit
                ? $"{text}\n[file truncated: showing the first {limit} of {stream.Length} bytes; use run_python to read the rest]"
                : text;
        }
        catch (WorkspaceException e)
        {
            return $"error: {e.Message}";
        }
        catch (SandboxUnavailableException e)
        {
            return Unreachable(e);
        }
    }

    public async Task<string> WriteFileAsync(Guid sessionId, string path, string content, CancellationToken ct = default)
    {
        try
        {
            using var stream = new MemoryStream(Encoding.UTF8.GetBytes(content ?? ""));
            var file = await workspace.WriteAsync(sessionId, path, stream, ct);
            return $"Wrote {file.Path} ({file.SizeBytes} bytes).";
        }
        catch (WorkspaceException e)
        {
            return $"error: {e.Message}";
        }
        catch (SandboxUnavailableException e)
        {
            return Unreachable(e);
        }
    }

    /// <summary>The workspace is mounted by another node, out of this node's sight (ADR 0015); run_python reaches that node.</summary>
    private static string Unreachable(SandboxUnavailableException e) =>
        $"error: the workspace cannot be reached from here ({e.Message}). Work with the files through run_python instead.";

    private static string Describe(ExecutionResult result)
    {
        var text = new StringBuilder();
        text.Append("status: ").Append(result.Status.ToString().ToLowerInvariant()).Append('\n');
        Section(text, "stdout", result.Stdout);
        Section(text, "stderr", result.Stderr);
        Section(text, "result", result.Result);
        if (result.Images.Count > 0)
        {
            Section(text, "images saved", string.Join('\n', result.Images));
        }
        if (result.Error is { } error)
        {
            Section(text, "error", string.IsNullOrEmpty(error.Traceback) ? $"{error.Name}: {error.Value}" : $"{error.Name}: {error.Value}\n{error.Traceback}");
        }
        if (result.KernelRestarted)
        {
            text.Append("note: the kernel was restarted; variables and imports from earlier calls are gone.\n");
        }
        return text.ToString();
    }

    private static void Section(StringBuilder text, string title, string? body)
    {
        if (!string.IsNullOrEmpty(body))
        {
            text.Append('[').Append(title).Append("]\n").Append(body.TrimEnd()).Append('\n');
        }
    }
}
