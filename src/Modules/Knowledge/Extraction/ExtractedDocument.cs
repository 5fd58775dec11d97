namespace Conclave.Knowledge.Extraction;

/// <summary>A paragraph-sized piece of text and where it sits: its page (PDF) and heading path.</summary>
internal sealed record TextBlock(string Text, int? Page, string? Heading);

/// <param name="Kind">pdf, docx, html, markdown, text or csv.</param>
internal sealed record ExtractedDocument(string Kind, IReadOnlyList<TextBlock> Blocks, int? Pages);

/// <summary>The content cannot be indexed; the message is the reason shown on the document, saying what to do.</summary>
internal sealed class ExtractionFailedException(string reason) : Exception(reason);

/// <summary>What extraction may use, from the configured limits.</summary>
internal sealed record ExtractionLimits(int MaxPages, int MaxExtractedChars, long MaxDecompressedBytes, int MaxCompressionRatio)
{
    public static ExtractionLimits From(KnowledgeLimitsOptions limits) =>
        new(limits.MaxPages, limits.MaxExtractedChars, limits.MaxDecompressedBytes, limits.MaxCompressionRatio);
}

/// <summary>Collects blocks while keeping the extracted text under its limit.</summary>
internal sealed class BlockList(ExtractionLimits limits)
{
    private readonly List<TextBlock> _blocks = [];
    private long _chars;

    public IReadOnlyList<TextBlock> Blocks => _blocks;

    public void Add(string text, int? page, string? heading)
    {
        text = text.Trim();
        if (text.Length == 0)
        {
            return;
        }

        _chars += text.Length;
        if (_chars > limits.MaxExtractedChars)
        {
            throw new ExtractionFailedException(
                $"The document holds more than {limits.MaxExtractedChars:N0} characters of text; the limit is MaxExtractedChars. Split it into smaller documents.");
        }

        _blocks.Add(new TextBlock(text, page, heading));
    }
}

/// <summary>Keeps the open headings of a document, e.g. "Indexes › Index Types".</summary>
internal sealed class HeadingPath
{
    private const int MaxHeadingChars = 200;
    private readonly SortedDictionary<int, string> _open = [];

    public string? Current => _open.Count == 0 ? null : string.Join(" › ", _open.Values);

    public void Enter(int level, string title)
    {
        title = Whitespace.Collapse(title);
        if (title.Length > MaxHeadingChars)
        {
            title = title[..MaxHeadingChars] + "…";
        }

        foreach (var deeper in _open.Keys.Where(k => k >= level).ToList())
        {
            _open.Remove(deeper);
        }

        if (title.Length > 0)
        {
            _open[level] = title;
        }
    }
}

internal static class Whitespace
{
    public static string Collapse(string text) =>
        string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
}
