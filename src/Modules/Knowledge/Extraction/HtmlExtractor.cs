using AngleSharp.Dom;
using AngleSharp.Html.Parser;

namespace Conclave.Knowledge.Extraction;

/// <summary>HTML with AngleSharp: headings h1..h6 as the path, block elements as paragraphs, navigation and scripts left out.</summary>
internal static class HtmlExtractor
{
    private const string Dropped = "script, style, noscript, template, svg, iframe, nav, header, footer, [role=navigation], .navheader, .navfooter";

    private const string Blocks = "h1, h2, h3, h4, h5, h6, p, li, pre, blockquote, dt, dd, tr, figcaption, caption";

    private static readonly HashSet<string> Containers = new(StringComparer.OrdinalIgnoreCase)
    {
        "P", "LI", "PRE", "BLOCKQUOTE", "DT", "DD", "TR", "FIGCAPTION", "CAPTION",
    };

    public static ExtractedDocument Read(string html, ExtractionLimits limits)
    {
        var document = new HtmlParser().ParseDocument(html);
        foreach (var element in document.QuerySelectorAll(Dropped).ToList())
        {
            element.Remove();
        }

        var blocks = new BlockList(limits);
        var headings = new HeadingPath();
        if (document.Title is { Length: > 0 } title)
        {
            headings.Enter(0, title);
        }

        var body = document.Body ?? (IElement?)document.DocumentElement;
        if (body is not null)
        {
            foreach (var element in body.QuerySelectorAll(Blocks))
            {
                // The outermost block only: a list item's paragraphs are read with the item.
                if (HasBlockAncestor(element, body))
                {
                    continue;
                }

                var tag = element.TagName;
                if (tag.Length == 2 && tag[0] == 'H' && char.IsAsciiDigit(tag[1]))
                {
                    headings.Enter(tag[1] - '0', element.TextContent);
                }
                else if (tag == "PRE")
                {
                    blocks.Add(element.TextContent, null, headings.Current);
                }
                else if (tag == "TR")
                {
                    blocks.Add(string.Join(" | ", element.Children.Select(c => Whitespace.Collapse(c.TextContent))), null, headings.Current);
                }
                else
                {
                    blocks.Add(Whitespace.Collapse(element.TextContent), null, headings.Current);
                }
            }
        }

        if (blocks.Blocks.Count == 0 && body is not null)
        {
            // A page of bare text in divs: take it whole.
            blocks.Add(Whitespace.Collapse(body.TextContent), null, headings.Current);
        }

        if (blocks.Blocks.Count == 0)
        {
            throw new ExtractionFailedException("No text found in the HTML page.");
        }

        return new ExtractedDocument("html", blocks.Blocks, null);
    }

    private static bool HasBlockAncestor(IElement element, IElement root)
    {
        for (var parent = element.ParentElement; parent is not null && parent != root; parent = parent.ParentElement)
        {
            if (Containers.Contains(parent.TagName))
            {
                return true;
            }
        }

        return false;
    }
}
