using System.Text;

namespace Conclave.Knowledge.Extraction;

/// <summary>Decides what a stored copy is (by its first bytes, then its name) and reads it with the matching extractor.</summary>
internal static class DocumentReader
{
    public const string Supported = "PDF, DOCX, HTML, Markdown, plain text (.txt) or CSV";

    private static readonly byte[] PdfMagic = "%PDF-"u8.ToArray();
    private static readonly byte[] ZipMagic = [0x50, 0x4B, 0x03, 0x04];

    public static ExtractedDocument Read(string name, ReadOnlyMemory<byte> content, ExtractionLimits limits, CancellationToken cancellationToken)
    {
        if (content.Length == 0)
        {
            throw new ExtractionFailedException("The file is empty: there is nothing to index.");
        }

        var extension = Path.GetExtension(name).ToLowerInvariant();
        var head = content.Span[..Math.Min(content.Length, 1024)];
        if (head.IndexOf(PdfMagic) >= 0)
        {
            return PdfExtractor.Read(content, limits, cancellationToken);
        }

        if (extension == ".pdf")
        {
            throw new ExtractionFailedException("The PDF is corrupt: it does not start with a PDF header (%PDF-). Upload the original file.");
        }

        if (content.Span.StartsWith(ZipMagic))
        {
            return extension == ".docx"
                ? DocxExtractor.Read(content, limits, cancellationToken)
                : throw new ExtractionFailedException(
                    $"'{name}' is a zip archive, which is not a supported type. Upload {Supported}.");
        }

        if (extension == ".docx")
        {
            throw new ExtractionFailedException("The DOCX is corrupt: it is not a zip package. Save it again from the word processor and upload it.");
        }

        var kind = extension switch
        {
            ".html" or ".htm" or ".xhtml" => "html",
            ".md" or ".markdown" => "markdown",
            ".txt" or ".text" => "text",
            ".csv" => "csv",
            _ => null,
        };
        if (kind is null)
        {
            var type = extension.Length > 0 ? $"'{extension}' files are" : "Files without an extension are";
            throw new ExtractionFailedException($"{type} not a supported type. Upload {Supported}.");
        }

        var text = Decode(content.Span, limits);
        return kind switch
        {
            "html" => HtmlExtractor.Read(text, limits),
            "markdown" => MarkdownExtractor.Read(text, limits),
            "csv" => CsvExtractor.Read(text, limits),
            _ => PlainTextExtractor.Read(text, limits),
        };
    }

    /// <summary>UTF-8 (with or without a byte order mark), UTF-16 with one, or else Latin-1; binary content is refused.</summary>
    private static string Decode(ReadOnlySpan<byte> bytes, ExtractionLimits limits)
    {
        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]))
        {
            return Encoding.Unicode.GetString(bytes[2..]);
        }

        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]))
        {
            return Encoding.BigEndianUnicode.GetString(bytes[2..]);
        }

        if (bytes.IndexOf((byte)0) >= 0)
        {
            throw new ExtractionFailedException("The file holds binary data, not text. Upload " + Supported + ".");
        }

        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            bytes = bytes[3..];
        }

        if (bytes.Length > (long)limits.MaxExtractedChars * 4)
        {
            throw new ExtractionFailedException(
                $"The document holds more than {limits.MaxExtractedChars:N0} characters of text; the limit is MaxExtractedChars. Split it into smaller documents.");
        }

        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return Encoding.Latin1.GetString(bytes);
        }
    }
}
