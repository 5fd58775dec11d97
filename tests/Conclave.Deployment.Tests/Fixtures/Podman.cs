namespace Conclave.Deployment.Tests.Fixtures;

/// <summary>Podman's CLI with the configuration the scripts use (CONTAINERS_CONF from .data/env.sh).</summary>
internal static class Podman
{
    /// <summary>Runs podman; its output, or an exception with it when podman fails.</summary>
    public static async Task<string> RunAsync(IEnumerable<string> arguments, TimeSpan? timeout = null)
    {
        var result = await TryAsync(arguments, timeout);
        return result.ExitCode == 0
            ? result.Output
            : throw new InvalidOperationException($"podman {string.Join(' ', arguments)} exited {result.ExitCode}:\n{result.Tail()}");
    }

    public static Task<ProcessResult> TryAsync(IEnumerable<string> arguments, TimeSpan? timeout = null) =>
        Processes.RunAsync("podman", arguments, timeout ?? TimeSpan.FromMinutes(2));
}
