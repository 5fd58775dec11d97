using System.IO.Compression;
using System.Xml;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Wordprocessing;

namespace Conclave.Knowledge.Extraction;

/// <summary>DOCX with the Open XML SDK: paragraphs and table rows in order, headings (Heading1..9, Title) as the path.</summary>
internal static class DocxExtractor
{
    public static ExtractedDocument Read(ReadOnlyMemory<byte> content, ExtractionLimits limits, CancellationToken cancellationToken)
    {
        var bytes = content.ToArray();
        CheckPackageSize(bytes, limits);

        WordprocessingDocument document;
        try
        {
            document = WordprocessingDocument.Open(new MemoryStream(bytes, writable: false), false);
        }
        catch (Exception e) when (e is OpenXmlPackageException or InvalidDataException or XmlException or IOException or FileFormatException or InvalidOperationException)
        {
            throw new ExtractionFailedException($"The DOCX is corrupt and cannot be read ({e.Message}). Save it again from the word processor and upload it.");
        }

        using (document)
        {
            Body? body;
            try
            {
                body = document.MainDocumentPart?.Document?.Body;
            }
            catch (Exception e) when (e is XmlException or InvalidDataException or IOException or OpenXmlPackageException)
            {
                throw new ExtractionFailedException($"The DOCX is corrupt and cannot be read ({e.Message}). Save it again from the word processor and upload it.");
            }

            if (body is null)
            {
                throw new ExtractionFailedException("The DOCX has no document body. Save it again from the word processor and upload it.");
            }

            var blocks = new BlockList(limits);
            var headings = new HeadingPath();
            foreach (var element in body.ChildElements)
            {
                cancellationToken.ThrowIfCancellationRequested();
                switch (element)
                {
                    case Paragraph paragraph:
                        var text = paragraph.InnerText;
                        if (HeadingLevel(paragraph) is { } level)
                        {
                            headings.Enter(level, text);
                        }
                        else
                        {
                            blocks.Add(text, null, headings.Current);
                        }

                        break;
                    case Table table:
                        foreach (var row in table.Descendants<TableRow>())
                        {
                            blocks.Add(string.Join(" | ", row.Elements<TableCell>().Select(c => Whitespace.Collapse(c.InnerText))), null, headings.Current);
                        }

                        break;
                }
            }

            if (blocks.Blocks.Count == 0)
            {
                throw new ExtractionFailedException("No text found in the DOCX.");
            }

            return new ExtractedDocument("docx", blocks.Blocks, null);
        }
    }

    /// <summary>
    /// A zip bomb is refused before anything is unpacked: the declared sizes of all parts together and
    /// the compression ratio of each are bounded (.NET also stops reading an entry at its declared size).
    /// </summary>
    private static void CheckPackageSize(byte[] bytes, ExtractionLimits limits)
    {
        try
        {
            using var zip = new ZipArchive(new MemoryStream(bytes, writable: false), ZipArchiveMode.Read);
            long total = 0;
            foreach (var entry in zip.Entries)
            {
                total += entry.Length;
                if (total > limits.MaxDecompressedBytes)
                {
                    throw new ExtractionFailedException(
                        $"The DOCX unpacks to more than {limits.MaxDecompressedBytes:N0} bytes; the limit is MaxDecompressedBytes. It may be a zip bomb; if not, split the document.");
                }

                var ratio = entry.Length / Math.Max(1, entry.CompressedLength);
                if (entry.Length > 1024 * 1024 && ratio > limits.MaxCompressionRatio)
                {
                    throw new ExtractionFailedException(
                        $"The DOCX looks like a zip bomb: its part '{entry.FullName}' unpacks {ratio:N0} times its compressed size; the limit is {limits.MaxCompressionRatio:N0} (MaxCompressionRatio).");
                }
            }
        }
        catch (InvalidDataException e)
        {
            throw new ExtractionFailedException($"The DOCX is corrupt: it is not a valid zip package ({e.Message}). Save it again from the word processor and upload it.");
        }
    }

    private static int? HeadingLevel(Paragraph paragraph)
    {
        var properties = paragraph.ParagraphProperties;
        var style = properties?.ParagraphStyleId?.Val?.Value;
        if (style is not null)
        {
            if (style.Equals("Title", StringComparison.OrdinalIgnoreCase))
            {
                return 0;
            }

            if (style.StartsWith("Heading", StringComparison.OrdinalIgnoreCase)
                && int.TryParse(style.AsSpan(7), out var level) && level is >= 1 and <= 9)
            {
                return level;
            }
        }

        return properties?.OutlineLevel?.Val?.Value is { } outline && outline < 9 ? outline + 1 : null;
    }
}
