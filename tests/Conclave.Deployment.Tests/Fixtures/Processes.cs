using System.Diagnostics;
using System.Text;

namespace Conclave.Deployment.Tests.Fixtures;

internal sealed record ProcessResult(int ExitCode, string Output, string Errors)
{
    /// <summary>The last lines of both streams, for a failure message.</summary>
    public string Tail(int lines = 60) =>
        string.Join('\n', (Output + "\n" + Errors).Split('\n').Where(l => l.Length > 0).TakeLast(lines));
}

/// <summary>Runs a program to its end with a deadline; output is captured, never inherited.</summary>
internal static class Processes
{
    public static async Task<ProcessResult> RunAsync(
        string program, IEnumerable<string> arguments, TimeSpan timeout, IDictionary<string, string>? environment = null, string? stdin = null)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {program}.");
        var output = new StringBuilder();
        var errors = new StringBuilder();
        var reading = Task.WhenAll(
            CopyAsync(process.StandardOutput, output),
            CopyAsync(process.StandardError, errors));
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
            process.StandardInput.Close();
        }

        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', arguments)} ran longer than {timeout}:\n{output}\n{errors}");
        }

        await reading;
        return new ProcessResult(process.ExitCode, output.ToString(), errors.ToString());
    }

    private static async Task CopyAsync(StreamReader reader, StringBuilder into)
    {
        var buffer = new char[8192];
        int read;
        while ((read = await reader.ReadAsync(buffer)) > 0)
        {
            lock (into)
            {
                into.Append(buffer, 0, read);
            }
        }
    }
}
