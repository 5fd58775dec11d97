namespace Conclave.Sandbox.Contracts;

/// <summary>
/// The sandbox as tools for an agent. Answers are plain text meant for a language model; mistakes the
/// model can fix (bad path, missing file, quota, Python errors) come back as text saying what to do,
/// not as exceptions. Cancellation still throws.
/// </summary>
public interface ISandboxTools
{
    /// <summary><c>run_python(code)</c>: runs code in the session's persistent kernel.</summary>
    async Task<string> RunPythonAsync(Guid sessionId, string code, CancellationToken ct = default) =>
        (await RunPythonWithOutputsAsync(sessionId, code, ct)).Text;

    /// <summary><c>run_python(code)</c> with what a timeline shows besides the text: failure and the images it saved.</summary>
    Task<SandboxToolAnswer> RunPythonWithOutputsAsync(Guid sessionId, string code, CancellationToken ct = default);

    /// <summary><c>list_files()</c>: the files in /workspace with their sizes.</summary>
    Task<string> ListFilesAsync(Guid sessionId, CancellationToken ct = default);

    /// <summary><c>read_file(path)</c>: a text file's content (bounded).</summary>
    Task<string> ReadFileAsync(Guid sessionId, string path, CancellationToken ct = default);

    /// <summary><c>write_file(path, content)</c>: creates or replaces a text file.</summary>
    Task<string> WriteFileAsync(Guid sessionId, string path, string content, CancellationToken ct = default);
}

/// <summary>The tools' names and signatures, for system prompts and tool schemas (so agents only call what exists).</summary>
public static class SandboxToolCatalog
{
    public static IReadOnlyList<SandboxTool> Tools { get; } =
    [
        new("run_python",
            "Run Python 3 code in a persistent Jupyter kernel (variables survive between calls). Working directory /workspace. "
            + "numpy, pandas and matplotlib are installed; there is no network. Figures are saved under outputs/. "
            + "Returns stdout, stderr, the value of the last expression and any error.",
            [new("code", "string", "The Python code to run.")]),
        new("list_files", "List the files in the session workspace (/workspace) with their sizes.", []),
        new("read_file", "Read a text file from the workspace.",
            [new("path", "string", "Path relative to the workspace, e.g. data/input.csv.")]),
        new("write_file", "Create or replace a text file in the workspace.",
            [new("path", "string", "Path relative to the workspace, e.g. notes/summary.md."), new("content", "string", "The full text to write.")]),
    ];
}

/// <param name="Text">What the agent is told.</param>
/// <param name="Failed">The code raised, timed out or could not run.</param>
/// <param name="Images">Workspace-relative paths of images the code saved (outputs/...).</param>
public sealed record SandboxToolAnswer(string Text, bool Failed, IReadOnlyList<string> Images);

public sealed record SandboxTool(string Name, string Description, IReadOnlyList<SandboxToolParameter> Parameters);

public sealed record SandboxToolParameter(string Name, string Type, string Description);
