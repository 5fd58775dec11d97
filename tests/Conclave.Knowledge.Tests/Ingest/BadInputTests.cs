using System.Text;
using Conclave.Knowledge.Contracts;
using Conclave.Knowledge.Tests.Fixtures;
using Conclave.Testing;
using static Conclave.Knowledge.Tests.Fixtures.KnowledgeApp;

namespace Conclave.Knowledge.Tests.Ingest;

/// <summary>One ingest at a time, so a document can be held in the queue behind another one.</summary>
public sealed class SingleWorkerApp : KnowledgeApp
{
    public SingleWorkerApp() => ExtraSettings["Conclave:Knowledge:Limits:MaxConcurrentIngests"] = "1";
}

/// <summary>Each bad input fails its own document with a specific reason; nothing else is touched and the worker goes on.</summary>
public sealed class BadInputTests(SingleWorkerApp app) : IClassFixture<SingleWorkerApp>
{
    public static TheoryData<string, string, string> BadFiles() => new()
    {
        { "encrypted", "locked.pdf", "The PDF is encrypted (password-protected)" },
        { "corrupt", "noise.pdf", "The PDF is corrupt and cannot be read" },
        { "truncated", "cut.pdf", "The PDF is truncated" },
        { "scanned", "scan.pdf", "No text found; OCR is not available" },
        { "zip bomb", "bomb.docx", "The DOCX looks like a zip bomb" },
        { "10,000 pages", "huge.pdf", "The PDF has 10,000 pages; the limit is 2,000 pages (MaxPages)" },
        { "unsupported type", "picture.png", "'.png' files are not a supported type" },
        { "binary as text", "data.txt", "The file holds binary data, not text" },
        { "empty file", "empty.md", "The file is empty" },
        { "not a pdf at all", "renamed.pdf", "it does not start with a PDF header" },
    };

    private static byte[] Content(string kind) => kind switch
    {
        "encrypted" => TestDocuments.EncryptedPdf(),
        "corrupt" => TestDocuments.CorruptPdf(),
        "truncated" => TestDocuments.TruncatedPdf(),
        "scanned" => TestDocuments.ScannedPdf(),
        "zip bomb" => TestDocuments.ZipBombDocx(64),
        "10,000 pages" => TestDocuments.ManyPagesPdf(10_000),
        "unsupported type" => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3],
        "binary as text" => [0x41, 0x00, 0x42, 0x00, 0xFF],
        "empty file" => [],
        "not a pdf at all" => "Just some words, saved with the wrong extension."u8.ToArray(),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public async Task A_bad_file_fails_with_its_reason_and_the_next_document_is_indexed(string kind, string name, string reason)
    {
        var library = await CreateLibraryAsync(app.Client, "bad " + kind);
        var good = await UploadAsync(app.Client, library.Id, "good.txt", Encoding.UTF8.GetBytes($"A healthy document uploaded next to the {kind} one."));

        var bad = await UploadAsync(app.Client, library.Id, name, Content(kind));
        var after = await UploadAsync(app.Client, library.Id, "after.txt", Encoding.UTF8.GetBytes($"Another healthy document, uploaded after the {kind} one."));

        var failed = await WaitUntilSettledAsync(app.Client, bad.Id);
        Assert.Equal(DocumentState.Failed, failed.State);
        Assert.Contains(reason, failed.Failure, StringComparison.Ordinal);
        Assert.Equal(0L, await app.ScalarAsync<long>("SELECT count(*) FROM knowledge.chunks WHERE document_id = @id", ("id", bad.Id)));
        await WaitUntilReadyAsync(app.Client, good.Id);
        await WaitUntilReadyAsync(app.Client, after.Id);
        var hits = await SearchAsync(app.Client, new { query = "healthy document", collectionIds = new[] { library.Id }, topK = 5 });
        Assert.Equal(new[] { after.Id, good.Id }.Order(), hits.Select(h => h.DocumentId).Order());
    }

    [Fact]
    public async Task A_document_uploaded_again_while_it_is_indexed_goes_live_with_the_new_content_only()
    {
        var library = await CreateLibraryAsync(app.Client, "changing");
        var old = await UploadAsync(app.Client, library.Id, "log.md", Encoding.UTF8.GetBytes(TestDocuments.Prose("avalanche forecasting", 3000)));
        await WaitUntilAsync(app.Client, old.Id, d => d.State == DocumentState.Embedding && d.ChunksEmbedded > 0 && d.ChunksEmbedded < d.ChunksTotal, "the first version is being embedded");

        var changed = await UploadAsync(app.Client, library.Id, "log.md", Encoding.UTF8.GetBytes("# Log\n\nThe glacier survey found crevasses near the northern moraine."));

        Assert.Equal(old.Id, changed.Id);
        Assert.Equal(2, changed.Version);
        var ready = await WaitUntilReadyAsync(app.Client, changed.Id);
        Assert.Equal(2, ready.Version);
        Assert.Equal(0L, await app.ScalarAsync<long>("SELECT count(*) FROM knowledge.chunks WHERE document_id = @id AND body LIKE '%avalanche%'", ("id", old.Id)));
        Assert.Equal((long)ready.ChunksTotal, await app.ScalarAsync<long>("SELECT count(*) FROM knowledge.chunks WHERE document_id = @id", ("id", old.Id)));
        Assert.Equal(0L, await app.ScalarAsync<long>("SELECT count(*) FROM knowledge.pending_chunks WHERE document_id = @id", ("id", old.Id)));
    }

    [Fact]
    public async Task A_stored_copy_that_changed_after_upload_is_not_indexed()
    {
        // Documents are indexed from the immutable copy stored at upload, never from the client's file;
        // its SHA-256 (taken while it was received) is checked again before extraction.
        var library = await CreateLibraryAsync(app.Client, "tampered");
        var ahead = await UploadAsync(app.Client, library.Id, "ahead.md", Encoding.UTF8.GetBytes(TestDocuments.Prose("tide tables", 1500)));
        var held = await UploadAsync(app.Client, library.Id, "held.txt", "The original words of the held document."u8.ToArray());
        Assert.Equal(DocumentState.Queued, (await GetDocumentAsync(app.Client, held.Id)).State);

        var changedRows = await app.ScalarAsync<int>(
            "WITH u AS (UPDATE knowledge.sources SET content = 'Words slipped in afterwards.'::bytea WHERE document_id = @id RETURNING 1) SELECT count(*)::int FROM u",
            ("id", held.Id));
        Assert.Equal(1, changedRows);
        Assert.Equal(DocumentState.Queued, (await GetDocumentAsync(app.Client, held.Id)).State);

        var failed = await WaitUntilSettledAsync(app.Client, held.Id);
        Assert.Equal(DocumentState.Failed, failed.State);
        Assert.Contains("The stored copy changed after it was uploaded", failed.Failure, StringComparison.Ordinal);
        await WaitUntilReadyAsync(app.Client, ahead.Id);
    }
}
