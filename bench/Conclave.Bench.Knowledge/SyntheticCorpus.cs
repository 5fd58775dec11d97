namespace Conclave.Bench.Knowledge;

/// <summary>
/// Chunks shaped like real ones without a model: each belongs to a topic (a cluster), its vector is
/// the topic's direction plus noise (cosine ~0.8 to the centre, as neighbouring passages of real
/// embeddings are), and its text mixes the topic's words with common ones in a Zipf-like spread, so
/// full-text queries match some rows more than others.
/// </summary>
internal sealed class SyntheticCorpus
{
    public static readonly string[] EnglishWords =
    [
        "the", "table", "index", "query", "value", "column", "row", "data", "server", "client", "transaction", "lock", "page", "file",
        "user", "role", "schema", "function", "type", "number", "text", "time", "date", "system", "backup", "replica", "network",
        "memory", "disk", "cache", "plan", "scan", "join", "sort", "group", "order", "limit", "update", "insert", "delete", "select",
        "view", "trigger", "sequence", "constraint", "key", "primary", "foreign", "unique", "check", "default", "null", "array", "json",
        "document", "search", "vector", "cluster", "partition", "statistics", "vacuum", "analyze", "checkpoint", "archive", "log",
    ];

    private const int Dimensions = 384;
    private const double Noise = 0.038;
    private readonly float[][] _centres;
    private readonly string[][] _topics;
    private readonly string[] _vocabulary;

    public SyntheticCorpus(Random random, int clusters)
    {
        string[] syllables = ["ka", "lo", "mi", "ren", "tu", "sa", "vor", "el", "qui", "bra", "no", "dex", "pal", "zu", "fer", "gim", "ho", "ja"];
        _vocabulary = Enumerable.Range(0, 20_000)
            .Select(_ => string.Concat(Enumerable.Range(0, random.Next(2, 4)).Select(_ => syllables[random.Next(syllables.Length)])))
            .Distinct()
            .ToArray();
        _centres = Enumerable.Range(0, clusters).Select(_ => Normalised(Enumerable.Range(0, Dimensions).Select(_ => (float)Gaussian(random)).ToArray())).ToArray();
        _topics = Enumerable.Range(0, clusters).Select(_ => Enumerable.Range(0, 12).Select(_ => _vocabulary[random.Next(_vocabulary.Length)]).ToArray()).ToArray();
    }

    public (string Text, float[] Vector) Chunk(Random random)
    {
        var cluster = random.Next(_centres.Length);
        var words = Enumerable.Range(0, 150).Select(i => i % 4 == 0
            ? _topics[cluster][random.Next(_topics[cluster].Length)]
            : random.Next(3) == 0 ? EnglishWords[Zipf(random, EnglishWords.Length)] : _vocabulary[Zipf(random, _vocabulary.Length)]);
        return (string.Join(' ', words), Near(_centres[cluster], random));
    }

    public (string Text, float[] Vector) Query(Random random)
    {
        var cluster = random.Next(_centres.Length);
        var words = Enumerable.Range(0, 3).Select(_ => _topics[cluster][random.Next(_topics[cluster].Length)])
            .Append(EnglishWords[random.Next(EnglishWords.Length)]);
        return ("how does " + string.Join(' ', words) + " work", Near(_centres[cluster], random));
    }

    private static float[] Near(float[] centre, Random random) =>
        Normalised(centre.Select(c => c + (float)(Noise * Gaussian(random))).ToArray());

    private static float[] Normalised(float[] vector)
    {
        var norm = (float)Math.Sqrt(vector.Sum(v => v * v));
        return vector.Select(v => v / norm).ToArray();
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    /// <summary>Index 0 most often, falling off roughly as 1/rank.</summary>
    private static int Zipf(Random random, int count) => Math.Min(count - 1, (int)Math.Exp(random.NextDouble() * Math.Log(count)) - 1);
}
