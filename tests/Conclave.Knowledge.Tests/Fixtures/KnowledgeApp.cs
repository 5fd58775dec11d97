using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Conclave.Knowledge.Contracts;
using Conclave.Testing;
using Conclave.Testing.Host;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Conclave.Knowledge.Tests.Fixtures;

/// <summary>
/// The whole Host on a fresh database with the real local embedding model, with quick leases so a
/// test of an interrupted ingest takes seconds. Helpers speak the REST API as a client would.
/// </summary>
public class KnowledgeApp : ConclaveApp
{
    public static readonly TimeSpan IngestDeadline = TimeSpan.FromSeconds(120);

    public KnowledgeApp()
    {
        ExtraSettings["Conclave:Knowledge:Ingest:HeartbeatInterval"] = "00:00:00.200";
        ExtraSettings["Conclave:Knowledge:Ingest:LeaseTimeout"] = "00:00:02";
        ExtraSettings["Conclave:Knowledge:Ingest:ReaperInterval"] = "00:00:00.250";
        // Tests wait on embedding: both cores (the product's default leaves one to the runs).
        ExtraSettings["Conclave:Knowledge:Embedding:Threads"] = "2";
        // Small batches: progress moves in steps a test can see (and stop a Host between).
        ExtraSettings["Conclave:Knowledge:Embedding:BatchSize"] = "4";
    }

    /// <summary>What the Knowledge module logged (Information and up).</summary>
    public CapturedLogs Logs { get; } = new();

    protected override void ConfigureHost(IWebHostBuilder builder) =>
        builder.ConfigureLogging(logging =>
        {
            logging.AddProvider(Logs);
            logging.AddFilter<CapturedLogs>((category, level) => category?.StartsWith("Conclave.Knowledge", StringComparison.Ordinal) == true && level >= LogLevel.Information);
        });

    public static async Task<KnowledgeCollection> CreateLibraryAsync(HttpClient client, string name)
    {
        var response = await client.PostAsJsonAsync("/api/v1/knowledge/libraries", new { name });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<KnowledgeCollection>(Json.Options))!;
    }

    public static Task<HttpResponseMessage> PostFileAsync(HttpClient client, string url, string name, byte[] content)
    {
        var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(content);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(file, "file", name);
        return client.PostAsync(url, form);
    }

    public static async Task<KnowledgeDocument> UploadAsync(HttpClient client, Guid collectionId, string name, byte[] content)
    {
        var response = await PostFileAsync(client, $"/api/v1/knowledge/collections/{collectionId}/documents", name, content);
        Assert.True(response.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<KnowledgeDocument>(Json.Options))!;
    }

    public static async Task<KnowledgeDocument> GetDocumentAsync(HttpClient client, Guid documentId) =>
        (await client.GetFromJsonAsync<KnowledgeDocument>($"/api/v1/knowledge/documents/{documentId}", Json.Options))!;

    /// <summary>Polls the document's state (the API's observable condition) until it is Ready or Failed.</summary>
    public static Task<KnowledgeDocument> WaitUntilSettledAsync(HttpClient client, Guid documentId, TimeSpan? timeout = null) =>
        WaitUntilAsync(client, documentId, d => d.State is DocumentState.Ready or DocumentState.Failed, "the document is ready or failed", timeout);

    /// <summary>Polls the document through the API until <paramref name="condition"/> holds; a timeout says what was seen last.</summary>
    public static async Task<KnowledgeDocument> WaitUntilAsync(
        HttpClient client, Guid documentId, Func<KnowledgeDocument, bool> condition, string because, TimeSpan? timeout = null)
    {
        KnowledgeDocument? last = null;
        try
        {
            await Eventually.Until(
                async () => condition(last = await GetDocumentAsync(client, documentId)),
                timeout ?? IngestDeadline,
                because);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message} (last seen: {last?.State} {last?.ChunksEmbedded}/{last?.ChunksTotal} {last?.Failure})", e);
        }

        return last!;
    }

    public static async Task<KnowledgeDocument> WaitUntilReadyAsync(HttpClient client, Guid documentId, TimeSpan? timeout = null)
    {
        var settled = await WaitUntilSettledAsync(client, documentId, timeout);
        Assert.True(settled.State == DocumentState.Ready, $"document {settled.Name} {settled.State}: {settled.Failure}");
        return settled;
    }

    public static async Task<List<KnowledgeHit>> SearchAsync(HttpClient client, object request)
    {
        var response = await client.PostAsJsonAsync("/api/v1/knowledge/search", request);
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<List<KnowledgeHit>>(Json.Options))!;
    }

    /// <summary>Runs a query on the Host's database (to look at chunks the API does not show).</summary>
    public async Task<T> ScalarAsync<T>(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return (T)(await command.ExecuteScalarAsync())!;
    }
}
