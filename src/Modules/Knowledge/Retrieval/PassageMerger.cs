using Conclave.Knowledge.Contracts;

namespace Conclave.Knowledge.Retrieval;

/// <summary>
/// Turns ranked chunks into passages: a chunk next to one already chosen from the same document (they
/// overlap by construction) is merged into it, up to <see cref="MaxChunksPerPassage"/>; a chunk that is a
/// near-duplicate of a chosen passage (the same text in another document or place) is dropped.
/// </summary>
internal static class PassageMerger
{
    public const int MaxChunksPerPassage = 3;

    private const double NearDuplicate = 0.9;

    private sealed class Passage(Candidate first, double score)
    {
        public List<Candidate> Chunks { get; } = [first];

        public double Score { get; } = score;

        /// <summary>The words of each chunk, to recognise a near-duplicate of any one of them.</summary>
        public List<HashSet<string>> ChunkWords { get; } = [WordsOf(first.Body)];

        public bool TryMerge(Candidate next)
        {
            if (next.DocumentId != Chunks[0].DocumentId || Chunks.Count >= MaxChunksPerPassage
                || next.Page != Chunks[0].Page || next.Heading != Chunks[0].Heading)
            {
                return false;
            }

            if (next.Ordinal == Chunks[^1].Ordinal + 1)
            {
                Chunks.Add(next);
            }
            else if (next.Ordinal == Chunks[0].Ordinal - 1)
            {
                Chunks.Insert(0, next);
            }
            else
            {
                return false;
            }

            ChunkWords.Add(WordsOf(next.Body));
            return true;
        }

        public KnowledgeHit ToHit()
        {
            var first = Chunks[0];
            var text = first.Body;
            foreach (var next in Chunks.Skip(1))
            {
                // The next chunk starts with the end of this one (and the separator after it): add only what is new.
                var overlap = Math.Clamp(next.Overlap, 0, next.Body.Length);
                var carried = next.Body[..overlap];
                var separator = overlap > 0 ? carried[carried.TrimEnd().Length..] : "\n\n";
                text = text + (separator.Length > 0 ? separator : " ") + next.Body[overlap..];
            }

            return new KnowledgeHit(first.DocumentId, first.DocumentName, first.CollectionId, first.Page, first.Heading, text, Score,
                Chunks.Select(c => c.Ordinal).ToList());
        }
    }

    public static IReadOnlyList<KnowledgeHit> Merge(IReadOnlyList<(Candidate Candidate, double Score)> ranked, int topK)
    {
        var passages = new List<Passage>();
        foreach (var (candidate, score) in ranked)
        {
            if (passages.Any(p => p.TryMerge(candidate)))
            {
                continue;
            }

            var words = WordsOf(candidate.Body);
            if (passages.Any(p => p.ChunkWords.Any(w => Jaccard(w, words) >= NearDuplicate)))
            {
                continue;
            }

            if (passages.Count < topK)
            {
                passages.Add(new Passage(candidate, score));
            }
        }

        return passages.Select(p => p.ToHit()).ToList();
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
