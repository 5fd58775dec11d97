using Conclave.Host.Markdown;

namespace Conclave.Host.Tests.Markdown;

public sealed class MarkdownRendererTests
{
    private readonly MarkdownRenderer _renderer = new();

    [Fact]
    public void Tables_bold_and_code_blocks_render()
    {
        var html = _renderer.ToHtml("**bold**\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```python\nprint('hi')\n```");

        Assert.Contains("<strong>bold</strong>", html);
        Assert.Contains("<table>", html);
        Assert.Contains("<td>1</td>", html);
        Assert.Contains("print", html);
        Assert.Contains("<pre", html);
    }

    [Theory]
    [InlineData("<script>alert(1)</script>")]
    [InlineData("<img src=x onerror=alert(1)>")]
    [InlineData("<iframe src=\"https://evil.example\"></iframe>")]
    public void Raw_html_is_shown_as_text(string markdown)
    {
        var html = _renderer.ToHtml(markdown);

        Assert.DoesNotContain("<script", html);
        Assert.DoesNotContain("<img", html);
        Assert.DoesNotContain("<iframe", html);
        Assert.Contains("&lt;", html);
    }

    [Theory]
    [InlineData("[click](javascript:alert(1))")]
    [InlineData("[click](JaVaScRiPt:alert(1))")]
    [InlineData("[click](data:text/html;base64,PHNjcmlwdD4=)")]
    [InlineData("[click](vbscript:msgbox)")]
    public void Links_with_dangerous_schemes_are_neutralised(string markdown)
    {
        var html = _renderer.ToHtml(markdown);

        Assert.Contains("href=\"#\"", html);
        Assert.DoesNotContain("script:", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("data:", html);
    }

    [Fact]
    public void Links_open_in_a_new_tab_without_access_to_the_page()
    {
        var html = _renderer.ToHtml("See [docs](https://example.org/docs) and https://example.com");

        Assert.Contains("href=\"https://example.org/docs\"", html);
        Assert.Contains("target=\"_blank\"", html);
        Assert.Contains("rel=\"noopener noreferrer nofollow\"", html);
        Assert.Contains("href=\"https://example.com\"", html);
    }

    [Fact]
    public void Attribute_syntax_cannot_add_event_handlers()
    {
        var html = _renderer.ToHtml("[x](https://example.org){onclick=alert(1)}");

        Assert.DoesNotContain("onclick=\"", html);
    }

    [Theory]
    [InlineData("```python\nprint('hi')\n```")]
    [InlineData("```\nplain text\n```")]
    [InlineData("    indented code")]
    public void Every_code_block_has_a_copy_button_and_nothing_else_does(string markdown)
    {
        var html = _renderer.ToHtml(markdown + "\n\nAnd `inline` code.");

        Assert.Single(System.Text.RegularExpressions.Regex.Matches(html, "data-copy-code"));
        Assert.Contains("<div class=\"code-block\"><button type=\"button\" class=\"copy-code\"", html);
    }
}
