using Conclave.Agents.Contracts;

namespace Conclave.Host.Components.Session;

/// <summary>What a new session suggests asking, by the team it has: each built-in team gets tasks it is built for.</summary>
internal static class ExamplePrompts
{
    /// <summary>The built-in team a session without a chosen team runs with.</summary>
    public const string DefaultTeam = "Assistant";

    private static readonly Dictionary<string, string[]> BuiltIn = new(StringComparer.Ordinal)
    {
        ["Assistant"] =
        [
            "Plot y = sin(x) and y = cos(x) from 0 to 2π on one chart.",
            "Summarise the columns of the CSV file I uploaded and flag missing values.",
            "Explain Python's list comprehensions with three short examples.",
        ],
        ["Planner-Coder-Critic"] =
        [
            "Simulate 10,000 rolls of two dice and chart how often each sum comes up.",
            "Write and test a function that tells whether a string is a palindrome.",
            "Fit a straight line to the data in my uploaded file and plot the residuals.",
        ],
        ["Researcher"] =
        [
            "Summarise the documents I uploaded and list their key claims with sources.",
            "Where do the two reports in my files disagree?",
            "Put every date mentioned in my files on a timeline.",
        ],
    };

    private static readonly string[] AnyTeam =
    [
        "Plan the steps to analyse a CSV of monthly sales, then carry them out.",
        "Compute the first 20 prime numbers and check the result.",
        "Look at my uploaded files and tell me what you can do with them.",
    ];

    public static IReadOnlyList<string> For(TeamDefinition team) =>
        team.BuiltIn && BuiltIn.TryGetValue(team.Name, out var prompts) ? prompts : AnyTeam;
}
