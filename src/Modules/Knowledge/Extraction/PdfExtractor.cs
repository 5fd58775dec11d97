using UglyToad.PdfPig;
using UglyToad.PdfPig.DocumentLayoutAnalysis.TextExtractor;
using UglyToad.PdfPig.Exceptions;

namespace Conclave.Knowledge.Extraction;

/// <summary>PDF with PdfPig: text in content order, page by page, so every block keeps its page number.</summary>
internal static class PdfExtractor
{
    private static readonly byte[] EndOfFile = "%%EOF"u8.ToArray();

    public static ExtractedDocument Read(ReadOnlyMemory<byte> content, ExtractionLimits limits, CancellationToken cancellationToken)
    {
        // PdfPig's lenient parser reads what it can of a cut-off file; a document missing its end
        // would be indexed in part without anyone noticing, so a missing end marker fails it.
        var tail = content.Span[Math.Max(0, content.Length - 2048)..];
        if (tail.IndexOf(EndOfFile) < 0)
        {
            throw new ExtractionFailedException("The PDF is truncated: its end-of-file marker (%%EOF) is missing. Upload the complete file.");
        }

        PdfDocument pdf;
        try
        {
            pdf = PdfDocument.Open(content.ToArray(), new ParsingOptions { UseLenientParsing = true, SkipMissingFonts = true });
        }
        catch (PdfDocumentEncryptedException)
        {
            throw new ExtractionFailedException("The PDF is encrypted (password-protected). Remove the password, save it and upload it again.");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw Corrupt(e);
        }

        using (pdf)
        {
            int pages;
            try
            {
                pages = pdf.NumberOfPages;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                throw Corrupt(e);
            }

            if (pages > limits.MaxPages)
            {
                throw new ExtractionFailedException(
                    $"The PDF has {pages:N0} pages; the limit is {limits.MaxPages:N0} pages (MaxPages). Split it into smaller documents.");
            }

            var blocks = new BlockList(limits);
            for (var number = 1; number <= pages; number++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                string text;
                try
                {
                    text = ContentOrderTextExtractor.GetText(pdf.GetPage(number), addDoubleNewline: true);
                }
                catch (PdfDocumentEncryptedException)
                {
                    throw new ExtractionFailedException("The PDF is encrypted (password-protected). Remove the password, save it and upload it again.");
                }
                catch (Exception e) when (e is not OperationCanceledException and not ExtractionFailedException)
                {
                    throw Corrupt(e, number);
                }

                foreach (var paragraph in Paragraphs(text))
                {
                    blocks.Add(paragraph, number, null);
                }
            }

            if (blocks.Blocks.Count == 0)
            {
                throw new ExtractionFailedException(
                    "No text found; OCR is not available. The PDF seems to hold only images (a scan): upload a PDF with a text layer.");
            }

            return new ExtractedDocument("pdf", blocks.Blocks, pages);
        }
    }

    /// <summary>Blank lines separate paragraphs; lines within one are joined.</summary>
    private static IEnumerable<string> Paragraphs(string pageText) =>
        pageText.Replace("\r\n", "\n", StringComparison.Ordinal)
            .Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(p => Whitespace.Collapse(p))
            .Where(p => p.Length > 0);

    private static ExtractionFailedException Corrupt(Exception e, int? page = null) => new(
        (page is null ? "The PDF is corrupt and cannot be read" : $"Page {page} of the PDF is corrupt and cannot be read")
        + $" ({Short(e.Message)}). Open it in a PDF viewer, save or print it to a new PDF and upload that.");

    private static string Short(string message) => message.Length <= 200 ? message : message[..200] + "…";
}
