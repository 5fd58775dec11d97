using System.Text;
using System.Text.RegularExpressions;

namespace Conclave.Chat.Slack;

/// <summary>
/// Markdown as agents write it, turned into Slack's mrkdwn: bold, italics, strike, links, headings and
/// bullets; code spans and fences kept as they are (their language tag dropped); &amp;, &lt; and &gt; escaped.
/// </summary>
internal static partial class Mrkdwn
{
    public static string FromMarkdown(string markdown)
    {
        var output = new StringBuilder(markdown.Length);
        var lines = markdown.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var inFence = false;
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            if (i > 0)
            {
                output.Append('\n');
            }

            if (line.TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                // Slack shows no language tag: the fence alone.
                output.Append("```");
                inFence = !inFence;
                continue;
            }

            output.Append(inFence ? Escape(line) : Line(line));
        }

        return output.ToString();
    }

    private static string Line(string line)
    {
        var heading = Heading().Match(line);
        if (heading.Success)
        {
            return "*" + Inline(heading.Groups[1].Value).Trim('*') + "*";
        }

        var bullet = Bullet().Match(line);
        if (bullet.Success)
        {
            return bullet.Groups[1].Value + "• " + Inline(bullet.Groups[2].Value);
        }

        return Inline(line);
    }

    /// <summary>Converts a line outside fences, leaving `code spans` alone.</summary>
    private static string Inline(string text)
    {
        var parts = text.Split('`');
        for (var i = 0; i < parts.Length; i++)
        {
            parts[i] = i % 2 == 1 && i < parts.Length - 1 ? Escape(parts[i]) : Emphasis(parts[i]);
        }

        return string.Join('`', parts);
    }

    private static string Emphasis(string text)
    {
        // Links first (their URLs must not be touched by the emphasis rules), as placeholders.
        var links = new List<string>();
        text = Link().Replace(text, m =>
        {
            links.Add($"<{m.Groups[2].Value}|{Escape(m.Groups[1].Value)}>");
            return $"\u0001{links.Count - 1}\u0001";
        });
        text = Escape(text);
        text = Bold().Replace(text, "\u0002$2\u0002");
        text = Italic().Replace(text, "_$1_");
        text = Strike().Replace(text, "~$1~");
        text = text.Replace('\u0002', '*');
        return LinkSlot().Replace(text, m => links[int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)]);
    }

    private static string Escape(string text) =>
        text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);

    /// <summary>
    /// Splits mrkdwn into messages of at most <paramref name="maxLength"/> characters, at a line break
    /// where there is one; a fence cut in two is closed and opened again.
    /// </summary>
    public static IReadOnlyList<string> Split(string text, int maxLength)
    {
        var parts = new List<string>();
        var rest = text;
        while (rest.Length > maxLength)
        {
            var room = maxLength - 4; // for a closing fence
            var cut = rest.LastIndexOf('\n', room - 1);
            if (cut < room / 2)
            {
                cut = room;
            }

            var part = rest[..cut];
            rest = rest[cut..].TrimStart('\n');
            if (CountFences(part) % 2 == 1)
            {
                part += "\n```";
                rest = "```\n" + rest;
            }

            parts.Add(part);
        }

        parts.Add(rest);
        return parts;
    }

    private static int CountFences(string text)
    {
        var count = 0;
        for (var i = text.IndexOf("```", StringComparison.Ordinal); i >= 0; i = text.IndexOf("```", i + 3, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    [GeneratedRegex(@"^\s{0,3}#{1,6}\s+(.*)$")]
    private static partial Regex Heading();

    [GeneratedRegex(@"^(\s*)[-*+]\s+(.*)$")]
    private static partial Regex Bullet();

    [GeneratedRegex(@"\[([^\]]+)\]\((https?://[^)\s]+)\)")]
    private static partial Regex Link();

    [GeneratedRegex(@"\u0001(\d+)\u0001")]
    private static partial Regex LinkSlot();

    [GeneratedRegex(@"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")]
    private static partial Regex Bold();

    [GeneratedRegex(@"(?<![\*\w])\*(?=\S)([^*]+?)(?<=\S)\*(?![\*\w])")]
    private static partial Regex Italic();

    [GeneratedRegex(@"~~(?=\S)(.+?)(?<=\S)~~")]
    private static partial Regex Strike();
}
