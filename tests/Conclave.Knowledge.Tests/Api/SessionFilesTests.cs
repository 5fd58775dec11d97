using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Conclave.Knowledge.Contracts;
using Conclave.Knowledge.Tests.Fixtures;
using Conclave.Sessions.Contracts;
using Conclave.Testing.Host;
using static Conclave.Knowledge.Tests.Fixtures.KnowledgeApp;

namespace Conclave.Knowledge.Tests.Api;

/// <summary>
/// Documents uploaded to a session's files go into the session's own collection too ("add to
/// knowledge", on by default for document types), and what happens to them shows in the session's feed.
/// </summary>
public sealed class SessionFilesTests(SessionFilesTests.SmallDocumentsApp app) : IClassFixture<SessionFilesTests.SmallDocumentsApp>
{
    /// <summary>Documents of at most 64 KiB, so a file under the upload limit can be over the document limit.</summary>
    public sealed class SmallDocumentsApp : KnowledgeApp
    {
        public const int MaxDocumentBytes = 64 * 1024;

        public SmallDocumentsApp() => ExtraSettings["Conclave:Knowledge:Limits:MaxDocumentBytes"] = MaxDocumentBytes.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task Documents_among_uploaded_files_are_added_to_the_session_s_knowledge_unless_asked_not_to()
    {
        var session = await app.CreateSessionAsync("files into knowledge");

        var entries = await UploadSessionFilesAsync(
            app.Client,
            session.Id,
            addToKnowledge: null,
            ("notes.md", "# Notes\n\nThe harbour opens at six."u8.ToArray()),
            ("prices.CSV", "item,price\nrope,12\n"u8.ToArray()),
            ("clean.py", "print('not a document')"u8.ToArray()));
        var kept = Assert.Single(await UploadSessionFilesAsync(app.Client, session.Id, addToKnowledge: false, ("private.md", "# Not for agents"u8.ToArray())));

        Assert.Equal(["notes.md", "prices.CSV", "clean.py"], entries.Select(e => e.GetProperty("path").GetString()));
        Assert.Equal(JsonValueKind.Null, KnowledgeOf(entries[2]));
        Assert.Equal(JsonValueKind.Null, KnowledgeOf(kept));
        var collection = (await app.Client.GetFromJsonAsync<JsonElement>($"/api/v1/sessions/{session.Id}/knowledge", Json.Options))
            .GetProperty("collection").GetProperty("id").GetGuid();
        var documents = await app.Client.GetFromJsonAsync<List<KnowledgeDocument>>($"/api/v1/knowledge/collections/{collection}/documents", Json.Options);
        Assert.Equal([DocumentIdOf(entries[0]), DocumentIdOf(entries[1])], documents!.OrderBy(d => d.Name, StringComparer.Ordinal).Select(d => d.Id));
        var files = await app.Client.GetFromJsonAsync<List<JsonElement>>($"/api/v1/sessions/{session.Id}/files", Json.Options);
        Assert.Equal(4, files!.Count); // every file is in the workspace either way
    }

    [Fact]
    public async Task A_bad_add_to_knowledge_value_stores_nothing()
    {
        var session = await app.CreateSessionAsync("bad switch");
        var form = new MultipartFormDataContent
        {
            { new ByteArrayContent("# Hello"u8.ToArray()), "files", "hello.md" },
            { new StringContent("maybe"), "addToKnowledge" },
        };

        var response = await app.Client.PostAsync($"/api/v1/sessions/{session.Id}/files", form);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("addToKnowledge", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty((await app.Client.GetFromJsonAsync<List<JsonElement>>($"/api/v1/sessions/{session.Id}/files", Json.Options))!);
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client.GetAsync($"/api/v1/sessions/{session.Id}/knowledge")).StatusCode);
    }

    [Fact]
    public async Task A_document_over_the_size_limit_is_kept_as_a_file_and_says_why_it_is_not_in_knowledge()
    {
        var session = await app.CreateSessionAsync("too large");
        var large = new byte[SmallDocumentsApp.MaxDocumentBytes + 1];
        Array.Fill(large, (byte)'a');

        var entry = Assert.Single(await UploadSessionFilesAsync(app.Client, session.Id, addToKnowledge: null, ("huge.txt", large)));

        var knowledge = entry.GetProperty("knowledge");
        Assert.Equal(JsonValueKind.Null, knowledge.GetProperty("documentId").ValueKind);
        Assert.Contains("MaxDocumentBytes", knowledge.GetProperty("problem").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deleting_a_document_of_the_session_shows_in_its_feed()
    {
        var session = await app.CreateSessionAsync("delete");
        var entry = Assert.Single(await UploadSessionFilesAsync(app.Client, session.Id, addToKnowledge: true, ("gone.txt", "Soon gone."u8.ToArray())));
        var documentId = DocumentIdOf(entry);
        await app.WaitThroughFeedAsync(app.Client, session.Id, documentId);

        Assert.Equal(HttpStatusCode.NoContent, (await app.Client.DeleteAsync($"/api/v1/knowledge/documents/{documentId}")).StatusCode);

        var removed = await app.WaitForEventAsync<KnowledgeDocumentChanged>(session.Id, d => d.DocumentId == documentId && d.State == KnowledgeDocumentState.Removed);
        Assert.Equal("gone.txt", ((KnowledgeDocumentChanged)removed.Data).Name);
    }

    private static JsonValueKind KnowledgeOf(JsonElement entry) =>
        entry.TryGetProperty("knowledge", out var knowledge) ? knowledge.ValueKind : JsonValueKind.Null;
}
