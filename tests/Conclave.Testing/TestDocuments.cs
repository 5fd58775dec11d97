using System.Globalization;
using System.IO.Compression;
using System.Text;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Wordprocessing;
using UglyToad.PdfPig.Core;
using UglyToad.PdfPig.Fonts.Standard14Fonts;
using UglyToad.PdfPig.Writer;
using PageSize = UglyToad.PdfPig.Content.PageSize;

namespace Conclave.Testing;

/// <summary>Documents made in the tests: PDFs with PdfPig's builder, DOCX with the Open XML SDK, and broken ones by hand.</summary>
public static class TestDocuments
{
    /// <summary>A PDF whose page n holds the paragraphs <paramref name="pages"/>[n-1], wrapped to the page width.</summary>
    public static byte[] Pdf(params string[][] pages)
    {
        var builder = new PdfDocumentBuilder();
        var font = builder.AddStandard14Font(Standard14Font.Helvetica);
        foreach (var paragraphs in pages)
        {
            var page = builder.AddPage(PageSize.A4);
            var y = 800.0;
            foreach (var paragraph in paragraphs)
            {
                foreach (var line in Wrap(paragraph, 90))
                {
                    page.AddText(line, 10, new PdfPoint(40, y), font);
                    y -= 14;
                }

                y -= 14;
            }
        }

        return builder.Build();
    }

    /// <summary>A PDF of <paramref name="pages"/> pages with a line each (for the page limit).</summary>
    public static byte[] ManyPagesPdf(int pages)
    {
        var builder = new PdfDocumentBuilder();
        var font = builder.AddStandard14Font(Standard14Font.Helvetica);
        for (var i = 1; i <= pages; i++)
        {
            builder.AddPage(PageSize.A6).AddText(string.Create(CultureInfo.InvariantCulture, $"Page {i}"), 10, new PdfPoint(20, 200), font);
        }

        return builder.Build();
    }

    /// <summary>A scan: pages with drawn shapes and no text layer.</summary>
    public static byte[] ScannedPdf()
    {
        var builder = new PdfDocumentBuilder();
        for (var i = 0; i < 2; i++)
        {
            var page = builder.AddPage(PageSize.A4);
            page.DrawRectangle(new PdfPoint(50, 50), 400, 600, 2, fill: true);
        }

        return builder.Build();
    }

    /// <summary>A PDF whose trailer names a standard security handler whose user password is not empty.</summary>
    public static byte[] EncryptedPdf()
    {
        var key = new string('A', 64);
        return HandMadePdf(
            [
                "<< /Type /Catalog /Pages 2 0 R >>",
                "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 300] >>",
                $"<< /Filter /Standard /V 1 /R 2 /O <{key}> /U <{new string('B', 64)}> /P -44 >>",
            ],
            "/Encrypt 4 0 R /ID [<0123456789ABCDEF0123456789ABCDEF> <0123456789ABCDEF0123456789ABCDEF>]");
    }

    /// <summary>A header and an end marker around bytes that are not PDF.</summary>
    public static byte[] CorruptPdf()
    {
        var noise = new byte[4096];
        new Random(7).NextBytes(noise);
        return [.. "%PDF-1.7\n"u8, .. noise, .. "\n%%EOF\n"u8];
    }

    public static byte[] TruncatedPdf()
    {
        var whole = Pdf(["A document that is cut off in the middle of its bytes, as a failed download would be."]);
        return whole[..(whole.Length / 2)];
    }

    /// <summary>A DOCX with a title, headings and paragraphs: (level, text); level 0 is a body paragraph.</summary>
    public static byte[] Docx(params (int Level, string Text)[] paragraphs)
    {
        using var stream = new MemoryStream();
        using (var document = WordprocessingDocument.Create(stream, WordprocessingDocumentType.Document))
        {
            var main = document.AddMainDocumentPart();
            var body = new Body();
            foreach (var (level, text) in paragraphs)
            {
                var paragraph = new Paragraph(new Run(new Text(text)));
                if (level > 0)
                {
                    paragraph.ParagraphProperties = new ParagraphProperties(new ParagraphStyleId { Val = $"Heading{level}" });
                }

                body.Append(paragraph);
            }

            main.Document = new Document(body);
            main.Document.Save();
        }

        return stream.ToArray();
    }

    /// <summary>A real DOCX plus a part that unpacks from kilobytes to <paramref name="megabytes"/> MiB of zeros.</summary>
    public static byte[] ZipBombDocx(int megabytes)
    {
        var docx = Docx((1, "Harmless"), (0, "A harmless looking document."));
        using var stream = new MemoryStream();
        stream.Write(docx);
        using (var zip = new ZipArchive(stream, ZipArchiveMode.Update, leaveOpen: true))
        {
            using var part = zip.CreateEntry("word/media/padding.bin", CompressionLevel.SmallestSize).Open();
            var zeros = new byte[1024 * 1024];
            for (var i = 0; i < megabytes; i++)
            {
                part.Write(zeros);
            }
        }

        return stream.ToArray();
    }

    /// <summary>Text of roughly <paramref name="words"/> words in paragraphs, each sentence numbered so chunks differ.</summary>
    public static string Prose(string topic, int words)
    {
        var text = new StringBuilder();
        var sentence = 0;
        while (text.Length < words * 6)
        {
            sentence++;
            text.Append(CultureInfo.InvariantCulture,
                $"Sentence {sentence} about {topic} explains one more detail of {topic} for the reader, with care and with examples. ");
            if (sentence % 6 == 0)
            {
                text.Append("\n\n");
            }
        }

        return text.ToString();
    }

    private static IEnumerable<string> Wrap(string text, int width)
    {
        var line = new StringBuilder();
        foreach (var word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.Length + word.Length + 1 > width && line.Length > 0)
            {
                yield return line.ToString();
                line.Clear();
            }

            if (line.Length > 0)
            {
                line.Append(' ');
            }

            line.Append(word);
        }

        if (line.Length > 0)
        {
            yield return line.ToString();
        }
    }

    /// <summary>Writes objects 1..n with a correct cross-reference table and the given extra trailer entries.</summary>
    private static byte[] HandMadePdf(IReadOnlyList<string> objects, string trailerExtra)
    {
        var pdf = new StringBuilder("%PDF-1.4\n");
        var offsets = new List<int>();
        for (var i = 0; i < objects.Count; i++)
        {
            offsets.Add(Encoding.ASCII.GetByteCount(pdf.ToString()));
            pdf.Append(CultureInfo.InvariantCulture, $"{i + 1} 0 obj\n{objects[i]}\nendobj\n");
        }

        var xref = Encoding.ASCII.GetByteCount(pdf.ToString());
        pdf.Append(CultureInfo.InvariantCulture, $"xref\n0 {objects.Count + 1}\n0000000000 65535 f \n");
        foreach (var offset in offsets)
        {
            pdf.Append(CultureInfo.InvariantCulture, $"{offset:D10} 00000 n \n");
        }

        pdf.Append(CultureInfo.InvariantCulture, $"trailer\n<< /Size {objects.Count + 1} /Root 1 0 R {trailerExtra} >>\nstartxref\n{xref}\n%%EOF\n");
        return Encoding.ASCII.GetBytes(pdf.ToString());
    }
}
