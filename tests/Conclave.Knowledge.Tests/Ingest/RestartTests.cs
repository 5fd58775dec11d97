using System.Text;
using Conclave.Knowledge.Contracts;
using Conclave.Knowledge.Tests.Fixtures;
using Conclave.Testing;
using static Conclave.Knowledge.Tests.Fixtures.KnowledgeApp;

namespace Conclave.Knowledge.Tests.Ingest;

/// <summary>Ingest is durable: a Host that stops mid-document is followed by one that finishes it, without duplicates.</summary>
public sealed class RestartTests(KnowledgeApp app) : IClassFixture<KnowledgeApp>
{
    [Fact]
    public async Task A_document_being_embedded_when_the_host_restarts_ends_ready_without_duplicate_chunks()
    {
        var library = await CreateLibraryAsync(app.Client, "restart");
        var document = await UploadAsync(app.Client, library.Id, "long.md", Encoding.UTF8.GetBytes(TestDocuments.Prose("river navigation", 4000)));
        var midway = await WaitUntilAsync(app.Client, document.Id, d => d.State == DocumentState.Embedding && d.ChunksEmbedded > 0 && d.ChunksEmbedded < d.ChunksTotal, "the document is part-way through embedding");
        Assert.True(midway.ChunksEmbedded < midway.ChunksTotal, $"{midway.ChunksEmbedded}/{midway.ChunksTotal} embedded before the restart");

        await app.RestartAsync();

        var ready = await WaitUntilReadyAsync(app.Client, document.Id);
        Assert.Equal(ready.ChunksTotal, ready.ChunksEmbedded);
        Assert.Equal((long)ready.ChunksTotal, await app.ScalarAsync<long>("SELECT count(*) FROM knowledge.chunks WHERE document_id = @id", ("id", document.Id)));
        Assert.Equal((long)ready.ChunksTotal, await app.ScalarAsync<long>("SELECT count(DISTINCT ordinal) FROM knowledge.chunks WHERE document_id = @id", ("id", document.Id)));
        Assert.Equal((long)ready.ChunksTotal - 1, await app.ScalarAsync<int>("SELECT max(ordinal) FROM knowledge.chunks WHERE document_id = @id", ("id", document.Id)));
        Assert.Equal(0L, await app.ScalarAsync<long>("SELECT count(*) FROM knowledge.pending_chunks WHERE document_id = @id", ("id", document.Id)));
        // Work done before the restart was kept: the new Host did not start from zero.
        Assert.Contains(app.Logs.Lines, l => l.Contains($"Document {document.Id} version 1 is handed on", StringComparison.Ordinal));
        var hits = await SearchAsync(app.Client, new { query = "river navigation sentence 3", collectionIds = new[] { library.Id } });
        Assert.All(hits, h => Assert.Equal(document.Id, h.DocumentId));
    }
}
