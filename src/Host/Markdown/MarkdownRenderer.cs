using System.Collections.Concurrent;
using ColorCode;
using Markdig;
using Markdig.Renderers;
using Markdig.Renderers.Html;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace Conclave.Host.Markdown;

/// <summary>
/// Renders agent and user Markdown to safe HTML: raw HTML is shown as text, links only go to
/// http(s)/mailto and open in a new tab without access to this page, code blocks are highlighted.
/// Deliberately no generic-attributes extension: it would let a message add event handlers.
/// </summary>
public sealed class MarkdownRenderer
{
    private static readonly string[] SafeSchemes = ["http", "https", "mailto"];
    private readonly MarkdownPipeline _pipeline = new MarkdownPipelineBuilder()
        .UsePipeTables()
        .UseGridTables()
        .UseEmphasisExtras()
        .UseTaskLists()
        .UseAutoLinks()
        .UseListExtras()
        .DisableHtml()
        .Build();

    private readonly ConcurrentDictionary<string, string> _cache = new();

    public string ToHtml(string markdown)
    {
        // Completed messages never change; the cache spares re-rendering on every UI refresh.
        if (markdown.Length <= 16 * 1024 && _cache.TryGetValue(markdown, out var cached))
        {
            return cached;
        }

        var html = Render(markdown);
        if (markdown.Length <= 16 * 1024 && _cache.Count < 2000)
        {
            _cache.TryAdd(markdown, html);
        }

        return html;
    }

    /// <summary>For text still streaming in: rendered every time, never cached.</summary>
    public string ToHtmlUncached(string markdown) => Render(markdown);

    private string Render(string markdown)
    {
        var document = Markdig.Markdown.Parse(markdown, _pipeline);
        foreach (var link in document.Descendants<LinkInline>())
        {
            MakeSafe(link);
        }

        foreach (var autolink in document.Descendants<AutolinkInline>())
        {
            if (!IsSafe(autolink.Url))
            {
                autolink.Url = "#";
            }

            OpenInNewTab(autolink.GetAttributes());
        }

        using var writer = new StringWriter();
        var renderer = new HtmlRenderer(writer);
        _pipeline.Setup(renderer);
        var codeRenderer = renderer.ObjectRenderers.FindExact<CodeBlockRenderer>();
        if (codeRenderer is not null)
        {
            renderer.ObjectRenderers.Replace<CodeBlockRenderer>(new HighlightingCodeBlockRenderer(codeRenderer));
        }

        renderer.Render(document);
        writer.Flush();
        return writer.ToString();
    }

    private static void MakeSafe(LinkInline link)
    {
        if (!IsSafe(link.Url))
        {
            link.Url = "#";
        }

        if (!link.IsImage)
        {
            OpenInNewTab(link.GetAttributes());
        }
    }

    private static void OpenInNewTab(HtmlAttributes attributes)
    {
        attributes.AddPropertyIfNotExist("target", "_blank");
        attributes.AddPropertyIfNotExist("rel", "noopener noreferrer nofollow");
    }

    private static bool IsSafe(string? url)
    {
        if (string.IsNullOrWhiteSpace(url))
        {
            return true;
        }

        var trimmed = url.Trim();
        if (Uri.TryCreate(trimmed, UriKind.Absolute, out var absolute) && !trimmed.StartsWith('/'))
        {
            return SafeSchemes.Contains(absolute.Scheme, StringComparer.OrdinalIgnoreCase);
        }

        // Relative links and fragments stay, unless they smuggle a scheme ("javascript:..." with odd spacing).
        return !trimmed.Contains(':', StringComparison.Ordinal);
    }

    /// <summary>Code blocks, highlighted when their language is known, each with a Copy button (app.js copies the block's text).</summary>
    private sealed class HighlightingCodeBlockRenderer(CodeBlockRenderer fallback) : HtmlObjectRenderer<CodeBlock>
    {
        private const string CopyButton =
            "<button type=\"button\" class=\"copy-code\" data-copy-code aria-label=\"Copy code\">Copy</button>";

        private readonly HtmlClassFormatter _formatter = new();

        protected override void Write(HtmlRenderer renderer, CodeBlock block)
        {
            renderer.EnsureLine();
            renderer.Write("<div class=\"code-block\">").Write(CopyButton);
            // A fence without a language has an empty Info, which ColorCode refuses.
            var language = block is FencedCodeBlock { Info: { Length: > 0 } info } ? Languages.FindById(info) : null;
            if (language is null)
            {
                fallback.Write(renderer, block);
            }
            else
            {
                var code = string.Join('\n', block.Lines.Lines.Take(block.Lines.Count).Select(l => l.ToString()));
                // ColorCode HTML-encodes the code itself.
                renderer.Write(_formatter.GetHtmlString(code, language));
            }

            renderer.EnsureLine();
            renderer.Write("</div>");
            renderer.EnsureLine();
        }
    }
}
