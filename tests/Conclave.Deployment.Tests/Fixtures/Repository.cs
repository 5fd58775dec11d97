namespace Conclave.Deployment.Tests.Fixtures;

/// <summary>The checkout under test and the data folder its scripts use.</summary>
internal static class Repository
{
    public static string Root { get; } = FindRoot();

    /// <summary>Where the scripts keep their state (<c>CONCLAVE_DATA</c>, as test.sh sets it), else the checkout's .data.</summary>
    public static string Data =>
        Environment.GetEnvironmentVariable("CONCLAVE_DATA") is { Length: > 0 } data ? data : Path.Combine(Root, ".data");

    public static string PathOf(string relative) => Path.Combine(Root, relative);

    /// <summary>Runs one of scripts/ with bash; fails the test with its output when it fails.</summary>
    public static async Task<ProcessResult> ScriptAsync(string script, TimeSpan timeout, params string[] arguments)
    {
        var result = await Processes.RunAsync("bash", [PathOf(Path.Combine("scripts", script)), .. arguments], timeout,
            new Dictionary<string, string> { ["CONCLAVE_DATA"] = Data });
        return result.ExitCode == 0
            ? result
            : throw new InvalidOperationException($"scripts/{script} exited {result.ExitCode}:\n{result.Tail()}");
    }

    /// <summary>The values of the <c>export NAME=value</c> lines a script printed.</summary>
    public static Dictionary<string, string> Exports(string stdout) =>
        stdout.Split('\n')
            .Where(line => line.StartsWith("export ", StringComparison.Ordinal) && line.Contains('='))
            .Select(line => line["export ".Length..].Split('=', 2))
            .ToDictionary(pair => pair[0], pair => pair[1].Trim().Trim('\''));

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Monolith.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No Monolith.sln above {AppContext.BaseDirectory}.");
    }
}
