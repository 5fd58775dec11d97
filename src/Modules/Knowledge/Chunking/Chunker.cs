using System.Text;
using System.Text.RegularExpressions;
using Conclave.Knowledge.Extraction;

namespace Conclave.Knowledge.Chunking;

/// <param name="Overlap">Characters at the start of <paramref name="Body"/> repeated from the previous chunk (0 for the first of a section).</param>
internal sealed record Chunk(int Ordinal, int? Page, string? Heading, string Body, int Overlap)
{
    /// <summary>What is embedded: the heading path gives a passage its context.</summary>
    public string EmbeddingText => Heading is { Length: > 0 } ? Heading + "\n\n" + Body : Body;
}

/// <summary>
/// Cuts a document along its structure: a chunk never spans two pages or two sections; within one,
/// paragraphs are packed up to the chunk size in the embedder's tokens, long paragraphs are cut at
/// sentences (then words), and each chunk after the first repeats the end of the one before.
/// </summary>
internal sealed partial class Chunker(ITokenCounter tokens, int chunkTokens, int overlapTokens, int maxChunks)
{
    /// <summary>A piece that is never cut further (a sentence, or a run of words of a very long one).</summary>
    private sealed record Unit(string Text, int Tokens, bool StartsParagraph);

    public IReadOnlyList<Chunk> Split(ExtractedDocument document, CancellationToken cancellationToken)
    {
        var chunks = new List<Chunk>();
        foreach (var section in Sections(document.Blocks))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var first = section[0];
            // [CLS] and [SEP] plus the heading, which is embedded with every chunk of its section.
            var headingTokens = first.Heading is { Length: > 0 } h ? tokens.Count(h) + 2 : 0;
            var budget = Math.Max(chunkTokens / 2, chunkTokens - 2 - headingTokens);
            var units = section.SelectMany(b => Units(b.Text, budget)).ToList();
            Pack(units, budget, first.Page, first.Heading, chunks);
            if (chunks.Count > maxChunks)
            {
                throw new ExtractionFailedException(
                    $"The document is cut into more than {maxChunks:N0} chunks; the limit is {maxChunks:N0} chunks per document (MaxChunksPerDocument). Split it into smaller documents.");
            }
        }

        return chunks;
    }

    private void Pack(List<Unit> units, int budget, int? page, string? heading, List<Chunk> chunks)
    {
        var current = new List<Unit>();
        var used = 0;
        var overlap = 0;
        foreach (var unit in units)
        {
            if (used + unit.Tokens > budget && current.Count > 0)
            {
                chunks.Add(new Chunk(chunks.Count, page, heading, Join(current), OverlapChars(current, overlap)));
                // Carry the last sentences (up to the overlap) into the next chunk.
                var carried = new List<Unit>();
                var carriedTokens = 0;
                for (var i = current.Count - 1; i >= overlap && i >= 0; i--)
                {
                    if (carriedTokens + current[i].Tokens > overlapTokens || carriedTokens + current[i].Tokens + unit.Tokens > budget)
                    {
                        break;
                    }

                    carried.Insert(0, current[i]);
                    carriedTokens += current[i].Tokens;
                }

                current = carried;
                used = carriedTokens;
                overlap = carried.Count;
            }

            current.Add(unit);
            used += unit.Tokens;
        }

        if (current.Count > overlap)
        {
            chunks.Add(new Chunk(chunks.Count, page, heading, Join(current), OverlapChars(current, overlap)));
        }
    }

    /// <summary>The length of the text the first <paramref name="carried"/> units make, with the separator after them.</summary>
    private static int OverlapChars(List<Unit> units, int carried)
    {
        if (carried == 0)
        {
            return 0;
        }

        var whole = Join(units);
        var rest = Join(units.Skip(carried).ToList());
        return whole.Length - rest.Length;
    }

    private static string Join(IReadOnlyList<Unit> units)
    {
        var text = new StringBuilder();
        foreach (var unit in units)
        {
            if (text.Length > 0)
            {
                text.Append(unit.StartsParagraph ? "\n\n" : " ");
            }

            text.Append(unit.Text);
        }

        return text.ToString();
    }

    /// <summary>Consecutive blocks on the same page under the same heading.</summary>
    private static IEnumerable<List<TextBlock>> Sections(IReadOnlyList<TextBlock> blocks)
    {
        var section = new List<TextBlock>();
        foreach (var block in blocks)
        {
            if (section.Count > 0 && (section[0].Page != block.Page || section[0].Heading != block.Heading))
            {
                yield return section;
                section = [];
            }

            section.Add(block);
        }

        if (section.Count > 0)
        {
            yield return section;
        }
    }

    /// <summary>A paragraph as one unit when it fits, else its sentences, else runs of words.</summary>
    private IEnumerable<Unit> Units(string paragraph, int budget)
    {
        var count = tokens.Count(paragraph);
        if (count <= budget / 2)
        {
            yield return new Unit(paragraph, count, true);
            yield break;
        }

        var first = true;
        foreach (var sentence in Sentence().Split(paragraph).Where(s => s.Trim().Length > 0))
        {
            var text = sentence.Trim();
            var sentenceTokens = tokens.Count(text);
            if (sentenceTokens <= budget)
            {
                yield return new Unit(text, sentenceTokens, first);
                first = false;
                continue;
            }

            foreach (var piece in WordRuns(text, budget))
            {
                yield return piece with { StartsParagraph = first };
                first = false;
            }
        }
    }

    /// <summary>Cuts an over-long sentence into runs of words that fit the budget.</summary>
    private IEnumerable<Unit> WordRuns(string sentence, int budget)
    {
        var run = new StringBuilder();
        var runTokens = 0;
        foreach (var word in sentence.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var wordTokens = Math.Min(tokens.Count(word), budget);
            if (runTokens + wordTokens > budget && run.Length > 0)
            {
                yield return new Unit(run.ToString(), runTokens, false);
                run.Clear();
                runTokens = 0;
            }

            if (run.Length > 0)
            {
                run.Append(' ');
            }

            // A single "word" longer than the budget (a base64 blob) is cut by characters.
            run.Append(wordTokens >= budget ? word[..Math.Min(word.Length, budget)] : word);
            runTokens += wordTokens;
        }

        if (run.Length > 0)
        {
            yield return new Unit(run.ToString(), runTokens, false);
        }
    }

    [GeneratedRegex(@"(?<=[.!?;:])\s+(?=\S)")]
    private static partial Regex Sentence();
}
