using System.Globalization;
using Conclave.Knowledge.Contracts;
using Conclave.Knowledge.Embedding;
using Conclave.Knowledge.Retrieval;
using Conclave.Knowledge.Storage;
using Conclave.Knowledge.Tests.Fixtures;
using Conclave.Testing.Host;
using Npgsql;
using NpgsqlTypes;
using Pgvector;
using static Conclave.Knowledge.Tests.Fixtures.KnowledgeApp;

namespace Conclave.Knowledge.Tests.Retrieval;

/// <summary>
/// A session's few chunks among many others' (a large installation): the vector list reads the collection's own
/// rows through the collection index and ranks them exactly, instead of scanning the whole table or walking
/// the HNSW graph through everybody else's nearest chunks.
/// </summary>
public sealed class SmallCollectionTests(KnowledgeApp app) : IClassFixture<KnowledgeApp>
{
    private const int OtherChunks = 5_000;

    [Fact]
    public async Task A_small_collection_among_many_chunks_is_ranked_exactly_from_its_own_rows()
    {
        var small = await CreateLibraryAsync(app.Client, "one recipe");
        var recipe = await UploadAsync(app.Client, small.Id, "recipe.txt", "The secret recipe uses cardamom, brown butter and a pinch of smoked salt."u8.ToArray());
        await WaitUntilReadyAsync(app.Client, recipe.Id);
        var large = await CreateLibraryAsync(app.Client, "many reports");
        await LoadChunksAsync(large.Id, OtherChunks);

        const string Question = "what spices are in the secret recipe";
        var hits = await SearchAsync(app.Client, new { query = Question, collectionIds = new[] { small.Id }, mode = "Vector" });
        Assert.Equal([recipe.Id], hits.Select(h => h.DocumentId).Distinct());

        var search = (HybridSearch)app.Service<IKnowledgeSearch>();
        var vector = await app.Service<KnowledgeEmbedder>().EmbedQueryAsync(Question, CancellationToken.None);
        var plan = await search.ExplainAsync(new KnowledgeQuery(ConclaveApp.DefaultUserId, [small.Id], Question, 5, RetrievalMode.Vector), Question, vector, CancellationToken.None);
        Assert.Contains("chunks_collection", plan, StringComparison.Ordinal);
        Assert.DoesNotContain("Seq Scan on chunks", plan, StringComparison.Ordinal);
    }

    /// <summary>Chunks with random unit vectors in one document of <paramref name="libraryId"/>, then fresh statistics.</summary>
    private async Task LoadChunksAsync(Guid libraryId, int count)
    {
        var database = app.Service<KnowledgeDatabase>();
        await using var connection = await database.OpenAsync(CancellationToken.None);
        var documentId = Guid.CreateVersion7();
        await using (var document = new NpgsqlCommand(
            """
            INSERT INTO knowledge.documents (id, collection_id, owner_id, name, kind, size_bytes, sha256, version, live_version, state, chunks_embedded, chunks_total, created_at, updated_at)
            VALUES (@id, @collection, @owner, 'reports.txt', 'text', 0, @sha, 1, 1, 'Ready', @count, @count, now(), now())
            """,
            connection))
        {
            document.Parameters.AddWithValue("id", documentId);
            document.Parameters.AddWithValue("collection", libraryId);
            document.Parameters.AddWithValue("owner", ConclaveApp.DefaultUserId);
            document.Parameters.AddWithValue("sha", Guid.NewGuid().ToByteArray());
            document.Parameters.AddWithValue("count", count);
            await document.ExecuteNonQueryAsync();
        }

        var random = new Random(5);
        await using (var writer = await connection.BeginBinaryImportAsync(
            "COPY knowledge.chunks (document_id, owner_id, collection_id, ordinal, body, overlap, embedding) FROM STDIN (FORMAT BINARY)"))
        {
            for (var i = 0; i < count; i++)
            {
                await writer.StartRowAsync();
                await writer.WriteAsync(documentId, NpgsqlDbType.Uuid);
                await writer.WriteAsync(ConclaveApp.DefaultUserId, NpgsqlDbType.Text);
                await writer.WriteAsync(libraryId, NpgsqlDbType.Uuid);
                await writer.WriteAsync(i, NpgsqlDbType.Integer);
                await writer.WriteAsync(string.Create(CultureInfo.InvariantCulture, $"Quarterly report {i} on shipping volumes."), NpgsqlDbType.Text);
                await writer.WriteAsync(0, NpgsqlDbType.Integer);
                await writer.WriteAsync(new Vector(UnitVector(random, database.Dimensions)), "vector");
            }

            await writer.CompleteAsync();
        }

        await using var analyze = new NpgsqlCommand("ANALYZE knowledge.chunks", connection);
        await analyze.ExecuteNonQueryAsync();
    }

    private static float[] UnitVector(Random random, int dimensions)
    {
        var vector = new float[dimensions];
        for (var i = 0; i < dimensions; i++)
        {
            vector[i] = (float)(random.NextDouble() - 0.5);
        }

        var norm = MathF.Sqrt(vector.Sum(x => x * x));
        return [.. vector.Select(x => x / norm)];
    }
}
