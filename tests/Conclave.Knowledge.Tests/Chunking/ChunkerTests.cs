using Conclave.Knowledge.Chunking;
using Conclave.Knowledge.Contracts;
using Conclave.Knowledge.Extraction;
using Conclave.Knowledge.Retrieval;
using Conclave.Knowledge.Tests.Fixtures;
using Conclave.Testing;

namespace Conclave.Knowledge.Tests.Chunking;

/// <summary>Chunks follow the document's structure and never exceed the size the embedder reads, counted by its own tokenizer.</summary>
public sealed class ChunkerTests
{
    private static readonly ArcticTokenCounter Tokens = new();

    [Fact]
    public void Chunks_stay_within_the_token_bound_overlap_and_never_cross_a_page_or_section()
    {
        var blocks = new List<TextBlock>();
        foreach (var page in new[] { 1, 2 })
        {
            foreach (var paragraph in TestDocuments.Prose($"topic {page}", 700).Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
            {
                blocks.Add(new TextBlock(paragraph.Trim(), page, page == 2 ? "Appendix › Tables" : null));
            }
        }

        var chunks = new Chunker(Tokens, 128, 24, 1000).Split(new ExtractedDocument("pdf", blocks, 2), CancellationToken.None);

        Assert.True(chunks.Count > 6);
        Assert.Equal(Enumerable.Range(0, chunks.Count), chunks.Select(c => c.Ordinal));
        Assert.All(chunks, c => Assert.True(Tokens.Count(c.EmbeddingText) + 2 <= 128, $"chunk {c.Ordinal} has {Tokens.Count(c.EmbeddingText) + 2} tokens"));
        Assert.All(chunks.Where(c => c.Page == 1), c => Assert.Null(c.Heading));
        Assert.All(chunks.Where(c => c.Page == 2), c => Assert.Equal("Appendix › Tables", c.Heading));
        Assert.All(chunks.Where(c => c.Page == 1), c => Assert.DoesNotContain("topic 2", c.Body, StringComparison.Ordinal));
        var firstOfPage2 = chunks.First(c => c.Page == 2);
        Assert.Equal(0, firstOfPage2.Overlap);
        foreach (var (previous, next) in chunks.Zip(chunks.Skip(1)).Where(p => p.First.Page == p.Second.Page))
        {
            Assert.True(next.Overlap > 0, $"chunk {next.Ordinal} repeats nothing of chunk {previous.Ordinal}");
            Assert.EndsWith(next.Body[..next.Overlap].Trim(), previous.Body, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_sentence_longer_than_a_chunk_is_cut_at_words_and_a_document_over_the_chunk_limit_fails()
    {
        var sentence = string.Join(' ', Enumerable.Range(0, 400).Select(i => $"word{i}"));
        var document = new ExtractedDocument("text", [new TextBlock(sentence, null, null)], null);

        var chunks = new Chunker(Tokens, 64, 8, 1000).Split(document, CancellationToken.None);
        var failure = Assert.Throws<ExtractionFailedException>(() => new Chunker(Tokens, 64, 8, 3).Split(document, CancellationToken.None));

        Assert.All(chunks, c => Assert.True(Tokens.Count(c.Body) + 2 <= 64));
        Assert.Contains("word399", chunks[^1].Body, StringComparison.Ordinal);
        Assert.Contains("(MaxChunksPerDocument)", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Adjacent_chunks_of_a_document_merge_into_one_passage_without_repeating_the_overlap()
    {
        var document = Guid.NewGuid();
        var texts = new Dictionary<long, ChunkText?>();
        Candidate Chunk(long id, Guid documentId, string name, int ordinal, string body, int overlap, string? heading = "H")
        {
            texts[id] = new ChunkText(name, body);
            return new(id, documentId, Guid.Empty, ordinal, null, heading, overlap, (int)id + 1, 0.1, null, null);
        }

        var ranked = new List<(Candidate, double)>
        {
            (Chunk(4, document, "doc.md", 4, "Carried sentence. New text of five.", "Carried sentence. ".Length), 0.9),
            (Chunk(3, document, "doc.md", 3, "Text of four. Carried sentence.", 0), 0.8),
            (Chunk(9, document, "doc.md", 9, "Far away chunk.", 0), 0.7),
            (Chunk(99, Guid.NewGuid(), "copy.md", 0, "Text of four. Carried sentence.", 0, heading: null), 0.6),
        };

        var hits = PassageMerger.Merge(ranked, 5, texts, out _)!;

        Assert.Equal(2, hits.Count);
        Assert.Equal("Text of four. Carried sentence. New text of five.", hits[0].Passage);
        Assert.Equal([3, 4], hits[0].ChunkOrdinals);
        Assert.Equal([9], hits[1].ChunkOrdinals);
        Assert.Equal("doc.md", hits[0].DocumentName);
    }

    [Fact]
    public void A_merge_asks_for_the_text_it_has_not_read_and_leaves_out_chunks_that_are_gone()
    {
        var document = Guid.NewGuid();
        Candidate Chunk(long id, int ordinal) => new(id, document, Guid.Empty, ordinal, null, null, 0, (int)id, 0.1, null, null);
        var ranked = new List<(Candidate, double)> { (Chunk(1, 10), 0.9), (Chunk(2, 20), 0.8), (Chunk(3, 30), 0.7), (Chunk(4, 11), 0.6) };
        var texts = new Dictionary<long, ChunkText?> { [1] = new("a.md", "alpha beta"), [2] = null };

        // Room for two passages: chunk 2 is gone, so chunk 3 is looked at and has not been read.
        Assert.Null(PassageMerger.Merge(ranked, 2, texts, out var unread));
        Assert.Equal(2, unread);
        Assert.Equal([1L, 2L, 3L, 4L], PassageMerger.LikelyNeeded(ranked, 2).Order());

        texts[3] = new("a.md", "gamma delta");
        // Both passages are chosen; chunk 4 joins the first (next to chunk 1), so its text is wanted too.
        Assert.Null(PassageMerger.Merge(ranked, 2, texts, out unread));
        Assert.Equal(3, unread);

        texts[4] = new("a.md", "epsilon");
        var hits = PassageMerger.Merge(ranked, 2, texts, out unread)!;
        Assert.Equal(-1, unread);
        Assert.Equal(["10,11", "30"], hits.Select(h => string.Join(',', h.ChunkOrdinals)));
    }

    [Fact]
    public void Passages_are_numbered_with_their_source_for_the_model()
    {
        var hits = new List<KnowledgeHit>
        {
            new(Guid.NewGuid(), "manual.pdf", Guid.Empty, 3, null, "Press the red button.", 0.5, [7]),
            new(Guid.NewGuid(), "notes.md", Guid.Empty, null, "Setup › Install", "Run the installer.", 0.4, [1]),
        };

        var result = KnowledgePassages.ToToolResult(hits);

        Assert.Equal("[1] manual.pdf, page 3\nPress the red button.\n\n[2] notes.md, section \"Setup › Install\"\nRun the installer.", result.Text);
        Assert.Equal([1, 2], result.Citations.Select(c => c.Number));
        Assert.Equal(KnowledgePassages.NoResults, KnowledgePassages.ToToolResult([]).Text);
    }
}
