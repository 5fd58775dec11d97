using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Conclave.Knowledge.Contracts;
using Conclave.Sessions.Contracts;
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

    /// <summary>
    /// Uploads files to a session's files (the files panel's upload), with the form's <c>addToKnowledge</c>
    /// field when given; returns each file's entry (path, size, and what became of it in knowledge).
    /// </summary>
    public static async Task<List<JsonElement>> UploadSessionFilesAsync(HttpClient client, Guid sessionId, bool? addToKnowledge, params (string Name, byte[] Content)[] files)
    {
        var form = new MultipartFormDataContent();
        if (addToKnowledge is { } add)
        {
            form.Add(new StringContent(add ? "true" : "false"), "addToKnowledge");
        }

        foreach (var (name, content) in files)
        {
            var file = new ByteArrayContent(content);
            file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(file, "files", name);
        }

        var response = await client.PostAsync($"/api/v1/sessions/{sessionId}/files", form);
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return [.. (await response.Content.ReadFromJsonAsync<JsonElement>(Json.Options)).EnumerateArray()];
    }

    /// <summary>The knowledge document a file of an upload became.</summary>
    public static Guid DocumentIdOf(JsonElement entry) => entry.GetProperty("knowledge").GetProperty("documentId").GetGuid();

    /// <summary>
    /// Reads the session's live feed (its SSE stream, as a browser would) until the document is Ready
    /// or Failed; returns every state of it the feed carried, in order. No polling: the feed pushes them.
    /// A timeout says what the feed carried, where the document stands and what the module logged.
    /// </summary>
    public async Task<List<KnowledgeDocumentChanged>> WaitThroughFeedAsync(HttpClient client, Guid sessionId, Guid documentId, TimeSpan? timeout = null)
    {
        using var deadline = new CancellationTokenSource(timeout ?? IngestDeadline);
        var seen = new List<KnowledgeDocumentChanged>();
        try
        {
            await foreach (var item in SseClient.ReadAsync(client, sessionId, lastEventId: null, deadline.Token))
            {
                var e = item.EventType == "log" ? JsonDocument.Parse(item.Data).RootElement : default;
                if (e.ValueKind != JsonValueKind.Object || e.GetProperty("type").GetString() != nameof(KnowledgeDocumentChanged))
                {
                    continue;
                }

                var change = e.GetProperty("data").Deserialize<KnowledgeDocumentChanged>(Json.Options)!;
                if (change.DocumentId != documentId)
                {
                    continue;
                }

                seen.Add(change);
                if (change.State is KnowledgeDocumentState.Ready or KnowledgeDocumentState.Failed)
                {
                    return seen;
                }
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
        }

        var stored = await ScalarAsync<string>(
            "SELECT state || ' ' || chunks_embedded || '/' || chunks_total || ', attempts ' || attempts FROM knowledge.documents WHERE id = @id", ("id", documentId));
        throw new TimeoutException(
            $"Document {documentId} did not settle in session {sessionId}'s feed; it carried: " +
            $"{string.Join(", ", seen.Select(s => $"{s.State} {s.ChunksEmbedded}/{s.ChunksTotal}"))}; stored: {stored}. Logged:\n{string.Join("\n", Logs.Lines)}");
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
