using Conclave.Host.Components.Session;

namespace Conclave.Host.Tests.Session;

public sealed class AgentColorsTests
{
    [Theory]
    [InlineData("#4f46e5")]
    [InlineData("#fde047")] // pale yellow: unreadable as it is on white
    [InlineData("#1e3a8a")] // navy: unreadable as it is on dark
    [InlineData("#ffffff")]
    [InlineData("#000000")]
    public void An_agents_name_has_AA_contrast_in_both_themes_whatever_its_colour(string color)
    {
        var style = AgentColors.Style(color);

        Assert.StartsWith($"--agent-color: {color};", style, StringComparison.Ordinal);
        Assert.True(Contrast(Ink(style, "light"), "#f1f3f6") >= 4.5, style);
        Assert.True(Contrast(Ink(style, "light"), "#ffffff") >= 4.5, style);
        Assert.True(Contrast(Ink(style, "dark"), "#1f232c") >= 4.5, style);
        Assert.True(Contrast(Ink(style, "dark"), "#171a21") >= 4.5, style);
    }

    [Fact]
    public void An_agent_without_a_colour_gets_one_from_its_name_always_the_same()
    {
        Assert.Matches("^#[0-9a-f]{6}$", AgentColors.Derived("Planner"));
        Assert.Equal(AgentColors.Derived("Planner"), AgentColors.Derived("Planner"));
        Assert.NotEqual(AgentColors.Derived("Planner"), AgentColors.Derived("Critic"));
    }

    private static string Ink(string style, string theme) =>
        style.Split(';').Select(p => p.Trim()).Single(p => p.StartsWith($"--agent-ink-{theme}:", StringComparison.Ordinal)).Split(':')[1].Trim();

    private static double Contrast(string a, string b)
    {
        var (la, lb) = (Luminance(a), Luminance(b));
        return (Math.Max(la, lb) + .05) / (Math.Min(la, lb) + .05);
    }

    private static double Luminance(string hex)
    {
        double Channel(int i)
        {
            var s = Convert.ToInt32(hex.Substring(i, 2), 16) / 255.0;
            return s <= .03928 ? s / 12.92 : Math.Pow((s + .055) / 1.055, 2.4);
        }

        return .2126 * Channel(1) + .7152 * Channel(3) + .0722 * Channel(5);
    }
}
