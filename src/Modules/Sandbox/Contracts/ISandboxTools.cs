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

/// <summary>
/// The sandbox tools, each described once: name, description and parameters (for system prompts and tool
/// schemas, so agents only call what exists) and how it is called on <see cref="ISandboxTools"/>. Agents
/// and their registry take everything from here; a new tool is one entry plus its method.
/// </summary>
public static class SandboxToolCatalog
{
    public static SandboxTool RunPython { get; } = new(
        "run_python",
        "Run Python 3 code in a persistent Jupyter kernel (variables survive between calls). Working directory /workspace. "
        + "numpy, pandas and matplotlib are installed; there is no network. Figures are saved under outputs/. "
        + "Returns stdout, stderr, the value of the last expression and any error.",
        [new("code", "string", "The Python code to run.")],
        (tools, session, args, ct) => tools.RunPythonWithOutputsAsync(session, args["code"], ct));

    public static SandboxTool ListFiles { get; } = new(
        "list_files",
        "List the files in the session workspace (/workspace) with their sizes.",
        [],
        (tools, session, _, ct) => Text(tools.ListFilesAsync(session, ct)));

    public static SandboxTool ReadFile { get; } = new(
        "read_file",
        "Read a text file from the workspace.",
        [new("path", "string", "Path relative to the workspace, e.g. data/input.csv.")],
        (tools, session, args, ct) => Text(tools.ReadFileAsync(session, args["path"], ct)));

    public static SandboxTool WriteFile { get; } = new(
        "write_file",
        "Create or replace a text file in the workspace.",
        [new("path", "string", "Path relative to the workspace, e.g. notes/summary.md."), new("content", "string", "The full text to write.")],
        (tools, session, args, ct) => Text(tools.WriteFileAsync(session, args["path"], args["content"], ct)));

    public static IReadOnlyList<SandboxTool> Tools { get; } = [RunPython, ListFiles, ReadFile, WriteFile];

    /// <summary>The text tools answer mistakes the agent can fix as text starting with "error:".</summary>
    private static async Task<SandboxToolAnswer> Text(Task<string> answer)
    {
        var text = await answer;
        return new(text, text.StartsWith("error:", StringComparison.Ordinal), []);
    }
}

/// <summary>Calls a tool on <see cref="ISandboxTools"/> with its arguments by parameter name (all present, checked by the caller).</summary>
public delegate Task<SandboxToolAnswer> SandboxToolCall(
    ISandboxTools tools, Guid sessionId, IReadOnlyDictionary<string, string> arguments, CancellationToken ct);

/// <param name="Text">What the agent is told.</param>
/// <param name="Failed">The code raised, timed out or could not run.</param>
/// <param name="Images">Workspace-relative paths of images the code saved (outputs/...).</param>
public sealed record SandboxToolAnswer(string Text, bool Failed, IReadOnlyList<string> Images);

public sealed record SandboxTool(string Name, string Description, IReadOnlyList<SandboxToolParameter> Parameters, SandboxToolCall Call);

public sealed record SandboxToolParameter(string Name, string Type, string Description);
