using Conclave.Knowledge.Contracts;

namespace Conclave.Knowledge.Retrieval;

/// <summary>
/// Turns ranked chunks into passages: a chunk next to one already chosen from the same document (they
/// overlap by construction) is merged into it, up to <see cref="MaxChunksPerPassage"/>; a chunk that is a
/// near-duplicate of a chosen passage (the same text in another document or place) is dropped. Texts are
/// read only for the candidates looked at: those that become or join a passage, and those compared with
/// the passages while there is room for more.
/// </summary>
internal static class PassageMerger
{
    public const int MaxChunksPerPassage = 3;

    private const double NearDuplicate = 0.9;

    private sealed class Passage(Candidate first, ChunkText text, double score)
    {
        public List<(Candidate Chunk, ChunkText Text)> Chunks { get; } = [(first, text)];

        public double Score { get; } = score;

        /// <summary>The words of each chunk, to recognise a near-duplicate of any one of them.</summary>
        public List<HashSet<string>> ChunkWords { get; } = [WordsOf(text.Body)];

        public bool CanMerge(Candidate next)
        {
            var first = Chunks[0].Chunk;
            return next.DocumentId == first.DocumentId && Chunks.Count < MaxChunksPerPassage
                && next.Page == first.Page && next.Heading == first.Heading
                && (next.Ordinal == Chunks[^1].Chunk.Ordinal + 1 || next.Ordinal == first.Ordinal - 1);
        }

        public void Merge(Candidate next, ChunkText text)
        {
            if (next.Ordinal == Chunks[^1].Chunk.Ordinal + 1)
            {
                Chunks.Add((next, text));
            }
            else
            {
                Chunks.Insert(0, (next, text));
            }

            ChunkWords.Add(WordsOf(text.Body));
        }

        public KnowledgeHit ToHit()
        {
            var (first, firstText) = Chunks[0];
            var text = firstText.Body;
            foreach (var next in Chunks.Skip(1).Select(c => (c.Chunk.Overlap, c.Text.Body)))
            {
                // The next chunk starts with the end of this one (and the separator after it): add only what is new.
                var overlap = Math.Clamp(next.Overlap, 0, next.Body.Length);
                var carried = next.Body[..overlap];
                var separator = overlap > 0 ? carried[carried.TrimEnd().Length..] : "\n\n";
                text = text + (separator.Length > 0 ? separator : " ") + next.Body[overlap..];
            }

            return new KnowledgeHit(first.DocumentId, firstText.DocumentName, first.CollectionId, first.Page, first.Heading, text, Score,
                Chunks.Select(c => c.Chunk.Ordinal).ToList());
        }
    }

    /// <summary>
    /// The passages of <paramref name="ranked"/> (best first), or null when a candidate it must look at has no
    /// text in <paramref name="texts"/> yet: <paramref name="unread"/> is then that candidate's index. A null
    /// text is a chunk that is gone; it is left out.
    /// </summary>
    public static IReadOnlyList<KnowledgeHit>? Merge(
        IReadOnlyList<(Candidate Candidate, double Score)> ranked, int topK, IReadOnlyDictionary<long, ChunkText?> texts, out int unread)
    {
        var passages = new List<Passage>();
        for (unread = 0; unread < ranked.Count; unread++)
        {
            var (candidate, score) = ranked[unread];
            var joins = passages.FirstOrDefault(p => p.CanMerge(candidate));
            if (joins is null && passages.Count >= topK)
            {
                continue;
            }

            if (!texts.TryGetValue(candidate.Id, out var text))
            {
                return null;
            }

            if (text is null)
            {
                continue;
            }

            if (joins is not null)
            {
                joins.Merge(candidate, text);
                continue;
            }

            var words = WordsOf(text.Body);
            if (!passages.Any(p => p.ChunkWords.Any(w => Jaccard(w, words) >= NearDuplicate)))
            {
                passages.Add(new Passage(candidate, text, score));
            }
        }

        unread = -1;
        return passages.Select(p => p.ToHit()).ToList();
    }

    /// <summary>
    /// The candidates whose texts a merge will most likely look at, to read them in one go: the best
    /// 2 × <paramref name="topK"/> and the chunks next to them.
    /// </summary>
    public static IReadOnlyList<long> LikelyNeeded(IReadOnlyList<(Candidate Candidate, double Score)> ranked, int topK)
    {
        var best = ranked.Take(topK * 2).Select(r => r.Candidate).ToList();
        var places = best.Select(c => (c.DocumentId, c.Ordinal)).ToHashSet();
        return ranked.Select(r => r.Candidate)
            .Where(c => places.Contains((c.DocumentId, c.Ordinal))
                || places.Contains((c.DocumentId, c.Ordinal - 1)) || places.Contains((c.DocumentId, c.Ordinal + 1)))
            .Select(c => c.Id)
            .ToList();
    }

    private static HashSet<string> WordsOf(string text) =>
        text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Select(w => w.ToLowerInvariant()).ToHashSet(StringComparer.Ordinal);

    private static double Jaccard(HashSet<string> a, HashSet<string> b)
    {
        if (a.Count == 0 || b.Count == 0)
        {
            return 0;
        }

        var common = a.Count(b.Contains);
        return (double)common / (a.Count + b.Count - common);
    }
}
