using System.Text.RegularExpressions;

namespace Conclave.McpTools.Connections;

/// <summary>The names models accept for functions: letters, digits, '_' and '-', 1-64 long.</summary>
internal static partial class McpToolNames
{
    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex Valid();

    public static bool IsValid(string name) => Valid().IsMatch(name);

    /// <summary>A server's tool name for a log line: bounded, control characters replaced.</summary>
    public static string Printable(string name) =>
        new([.. name.Take(80).Select(c => char.IsControl(c) ? '?' : c)]);
}
