using Conclave.Chat.Slack;

namespace Conclave.Host.Tests.Chat;

/// <summary>Agents write Markdown; Slack reads mrkdwn.</summary>
public sealed class MrkdwnTests
{
    [Theory]
    [InlineData("**bold** and __bold__", "*bold* and *bold*")]
    [InlineData("*italic* text", "_italic_ text")]
    [InlineData("~~gone~~", "~gone~")]
    [InlineData("see [the docs](https://example.com/a_b?x=1&y=2)", "see <https://example.com/a_b?x=1&y=2|the docs>")]
    [InlineData("## Results", "*Results*")]
    [InlineData("- one\n- two", "• one\n• two")]
    [InlineData("a < b & c > d", "a &lt; b &amp; c &gt; d")]
    [InlineData("`**not bold**` but **bold**", "`**not bold**` but *bold*")]
    [InlineData("```python\nx = 2 ** 3 < 9\n```", "```\nx = 2 ** 3 &lt; 9\n```")]
    public void Markdown_becomes_mrkdwn(string markdown, string mrkdwn) => Assert.Equal(mrkdwn, Mrkdwn.FromMarkdown(markdown));

    [Fact]
    public void A_long_answer_is_split_at_line_breaks_within_the_limit_and_a_cut_fence_is_closed_and_reopened()
    {
        var text = "intro\n```\n" + string.Join("\n", Enumerable.Range(0, 200).Select(i => $"line {i:D3} of code")) + "\n```\nend";

        var parts = Mrkdwn.Split(text, 500);

        Assert.True(parts.Count > 1);
        Assert.All(parts, p => Assert.True(p.Length <= 500, $"a part of {p.Length} characters"));
        Assert.All(parts, p => Assert.Equal(0, System.Text.RegularExpressions.Regex.Matches(p, "```").Count % 2));
        Assert.Equal(
            text.Replace("```\n", "", StringComparison.Ordinal).Replace("\n```", "", StringComparison.Ordinal).Replace("\n", "", StringComparison.Ordinal),
            string.Concat(parts).Replace("```\n", "", StringComparison.Ordinal).Replace("\n```", "", StringComparison.Ordinal).Replace("\n", "", StringComparison.Ordinal));
    }
}
