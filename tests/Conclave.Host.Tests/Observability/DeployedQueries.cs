using System.Text.Json;

namespace Conclave.Host.Tests.Observability;

/// <summary>The PromQL the repository ships: every dashboard panel's target and every rule in deploy/.</summary>
public static class DeployedQueries
{
    /// <param name="Where">The dashboard and panel, or the rules file and line.</param>
    /// <param name="Name">The alert's or recording rule's name; null for a panel.</param>
    public sealed record Query(string Where, string Expr, bool IsRule, string? Name = null);

    public static IEnumerable<Query> Panels()
    {
        foreach (var file in Directory.GetFiles(Path.Combine(Root(), "deploy", "grafana", "dashboards"), "*.json").Order(StringComparer.Ordinal))
        {
            using var dashboard = JsonDocument.Parse(File.ReadAllText(file));
            foreach (var panel in dashboard.RootElement.GetProperty("panels").EnumerateArray())
            {
                foreach (var target in panel.GetProperty("targets").EnumerateArray())
                {
                    yield return new Query(
                        $"{Path.GetFileName(file)} '{panel.GetProperty("title").GetString()}' {target.GetProperty("refId").GetString()}",
                        target.GetProperty("expr").GetString()!,
                        IsRule: false);
                }
            }
        }
    }

    public static IEnumerable<Query> Rules()
    {
        foreach (var file in RuleFiles())
        {
            // One expression per "expr:" (single line or a block scalar below it), named by the alert or record above it.
            var lines = File.ReadAllLines(file);
            string? name = null;
            for (var i = 0; i < lines.Length; i++)
            {
                var trimmed = lines[i].TrimStart().TrimStart('-').TrimStart();
                if (trimmed.StartsWith("alert:", StringComparison.Ordinal) || trimmed.StartsWith("record:", StringComparison.Ordinal))
                {
                    name = trimmed[(trimmed.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
                }

                var at = lines[i].IndexOf("expr:", StringComparison.Ordinal);
                if (at < 0)
                {
                    continue;
                }

                var expr = lines[i][(at + 5)..].Trim();
                if (expr == "|")
                {
                    var indent = at;
                    expr = string.Join(" ", lines.Skip(i + 1).TakeWhile(l => l.Length - l.TrimStart().Length > indent).Select(l => l.Trim()));
                }

                yield return new Query($"{Path.GetFileName(file)} line {i + 1}", expr, IsRule: true, name);
            }
        }
    }

    public static IEnumerable<Query> All() => Panels().Concat(Rules());

    public static IReadOnlyList<string> RuleFiles() =>
        Directory.GetFiles(Path.Combine(Root(), "deploy", "prometheus", "rules"), "*.yml").Order(StringComparer.Ordinal).ToList();

    /// <summary>The checkout's root (where Monolith.sln is).</summary>
    public static string Root()
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
