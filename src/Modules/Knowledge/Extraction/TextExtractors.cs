using System.Text;
using System.Text.RegularExpressions;

namespace Conclave.Knowledge.Extraction;

/// <summary>Markdown: ATX headings (#..######) as the path, blank lines between paragraphs, fenced code kept whole.</summary>
internal static partial class MarkdownExtractor
{
    public static ExtractedDocument Read(string text, ExtractionLimits limits)
    {
        var blocks = new BlockList(limits);
        var headings = new HeadingPath();
        var paragraph = new StringBuilder();
        var inFence = false;
        foreach (var line in Lines(text))
        {
            if (line.TrimStart().StartsWith("```", StringComparison.Ordinal) || line.TrimStart().StartsWith("~~~", StringComparison.Ordinal))
            {
                inFence = !inFence;
                paragraph.AppendLine(line);
                continue;
            }

            if (!inFence && Heading().Match(line) is { Success: true } heading)
            {
                Flush();
                headings.Enter(heading.Groups[1].Length, heading.Groups[2].Value.TrimEnd('#', ' '));
                continue;
            }

            if (!inFence && line.Trim().Length == 0)
            {
                Flush();
                continue;
            }

            paragraph.AppendLine(line);
        }

        Flush();
        return blocks.Blocks.Count > 0
            ? new ExtractedDocument("markdown", blocks.Blocks, null)
            : throw new ExtractionFailedException("No text found in the Markdown file.");

        void Flush()
        {
            blocks.Add(paragraph.ToString(), null, headings.Current);
            paragraph.Clear();
        }
    }

    internal static IEnumerable<string> Lines(string text) => text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');

    [GeneratedRegex(@"^\s{0,3}(#{1,6})\s+(.*)$")]
    private static partial Regex Heading();
}

/// <summary>Plain text: blank lines between paragraphs.</summary>
internal static class PlainTextExtractor
{
    public static ExtractedDocument Read(string text, ExtractionLimits limits)
    {
        var blocks = new BlockList(limits);
        foreach (var paragraph in text.Replace("\r\n", "\n", StringComparison.Ordinal).Split("\n\n"))
        {
            blocks.Add(paragraph, null, null);
        }

        return blocks.Blocks.Count > 0
            ? new ExtractedDocument("text", blocks.Blocks, null)
            : throw new ExtractionFailedException("The file holds only white space: there is nothing to index.");
    }
}

/// <summary>CSV: one block per record; the header row becomes every chunk's heading, so each chunk names its columns.</summary>
internal static class CsvExtractor
{
    /// <summary>A wide table's header is cut here: it is embedded with every chunk.</summary>
    private const int MaxHeaderChars = 300;

    public static ExtractedDocument Read(string text, ExtractionLimits limits)
    {
        var records = Records(text).Where(r => r.Trim().Length > 0).ToList();
        if (records.Count == 0)
        {
            throw new ExtractionFailedException("The CSV file has no rows: there is nothing to index.");
        }

        var header = Whitespace.Collapse(records[0]);
        var heading = "Columns: " + (header.Length <= MaxHeaderChars ? header : header[..MaxHeaderChars] + "…");
        var blocks = new BlockList(limits);
        foreach (var record in records.Skip(records.Count > 1 ? 1 : 0))
        {
            blocks.Add(record, null, heading);
        }

        return new ExtractedDocument("csv", blocks.Blocks, null);
    }

    /// <summary>Records, honouring quoted fields that hold line breaks.</summary>
    private static IEnumerable<string> Records(string text)
    {
        var record = new StringBuilder();
        var quoted = false;
        foreach (var c in text)
        {
            if (c == '"')
            {
                quoted = !quoted;
            }

            if (c == '\n' && !quoted)
            {
                yield return record.ToString().TrimEnd('\r');
                record.Clear();
                continue;
            }

            record.Append(c);
        }

        if (record.Length > 0)
        {
            yield return record.ToString().TrimEnd('\r');
        }
    }
}
