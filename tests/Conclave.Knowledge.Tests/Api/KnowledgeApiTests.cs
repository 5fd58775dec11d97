using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Conclave.Knowledge.Contracts;
using Conclave.Knowledge.Tests.Fixtures;
using Conclave.Testing;
using Conclave.Testing.Host;
using static Conclave.Knowledge.Tests.Fixtures.KnowledgeApp;

namespace Conclave.Knowledge.Tests.Api;

/// <summary>Small limits, so a test reaches each of them cheaply.</summary>
public sealed class LimitedKnowledgeApp : KnowledgeApp
{
    public LimitedKnowledgeApp()
    {
        ExtraSettings["Conclave:Knowledge:Limits:MaxDocumentBytes"] = "20000";
        ExtraSettings["Conclave:Knowledge:Limits:MaxStorageBytesPerUser"] = "50000";
        ExtraSettings["Conclave:Knowledge:Limits:MaxChunksPerDocument"] = "3";
        ExtraSettings["Conclave:Knowledge:Limits:MaxLibrariesPerUser"] = "3";
    }
}

/// <summary>The REST surface: libraries, attachments, bounded inputs naming their field, limits naming themselves, OpenAPI.</summary>
public sealed class KnowledgeApiTests(LimitedKnowledgeApp app) : IClassFixture<LimitedKnowledgeApp>
{
    [Fact]
    public async Task Libraries_are_created_renamed_attached_listed_and_deleted()
    {
        var client = await app.CreateUserClientAsync("librarian-" + Guid.NewGuid().ToString("N")[..6]);
        var library = await CreateLibraryAsync(client, "Field guides");
        var session = (await (await client.PostAsJsonAsync("/api/v1/sessions", new { title = "birding" })).Content.ReadFromJsonAsync<Conclave.Sessions.Contracts.SessionSummary>(Json.Options))!;
        var team = Guid.NewGuid();

        var renamed = await client.PutAsJsonAsync($"/api/v1/knowledge/libraries/{library.Id}", new { name = "Bird guides", description = "Nordic birds" });
        Assert.Equal(HttpStatusCode.OK, renamed.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.PutAsync($"/api/v1/knowledge/libraries/{library.Id}/attachments/Team/{team}", null)).StatusCode);
        var attached = await client.PutAsync($"/api/v1/knowledge/libraries/{library.Id}/attachments/Session/{session.Id}", null);
        var withBoth = (await attached.Content.ReadFromJsonAsync<KnowledgeCollection>(Json.Options))!;
        Assert.Equal("Bird guides", withBoth.Name);
        Assert.Equal("Nordic birds", withBoth.Description);
        Assert.Equal(2, withBoth.Attachments.Count);

        var visible = app.Service<IKnowledgeCollections>();
        var owner = withBoth.OwnerId;
        Assert.Equal([library.Id], await visible.VisibleAsync(owner, null, team, CancellationToken.None));
        Assert.Equal([library.Id], await visible.VisibleAsync(owner, session.Id, null, CancellationToken.None));
        Assert.Empty(await visible.VisibleAsync(owner, Guid.NewGuid(), Guid.NewGuid(), CancellationToken.None));

        var upload = await PostFileAsync(client, $"/api/v1/sessions/{session.Id}/knowledge/documents", "owls.txt", "Tawny owls call at dusk."u8.ToArray());
        Assert.Equal(HttpStatusCode.Created, upload.StatusCode);
        var sessionKnowledge = await client.GetFromJsonAsync<JsonElement>($"/api/v1/sessions/{session.Id}/knowledge", Json.Options);
        var sessionCollection = sessionKnowledge.GetProperty("collection").GetProperty("id").GetGuid();
        Assert.Equal(new[] { library.Id, sessionCollection }.Order(), sessionKnowledge.GetProperty("visible").EnumerateArray().Select(e => e.GetGuid()).Order());

        var tool = await app.Service<IKnowledgeTool>().SearchAsync(owner, session.Id, team, "when do owls call", 3, 1, CancellationToken.None);
        await WaitUntilReadyAsync(client, (await upload.Content.ReadFromJsonAsync<KnowledgeDocument>(Json.Options))!.Id);
        tool = await app.Service<IKnowledgeTool>().SearchAsync(owner, session.Id, team, "when do owls call", 3, 1, CancellationToken.None);
        Assert.StartsWith("[1] owls.txt\nTawny owls call at dusk.", tool.Text, StringComparison.Ordinal);
        Assert.Equal("owls.txt", tool.Citations[0].DocumentName);

        var listed = await client.GetFromJsonAsync<List<KnowledgeCollection>>("/api/v1/knowledge/libraries", Json.Options);
        Assert.Equal(["Bird guides"], listed!.Select(l => l.Name));
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/v1/knowledge/libraries/{library.Id}")).StatusCode);
        Assert.Empty(await visible.VisibleAsync(owner, null, team, CancellationToken.None));
    }

    [Theory]
    [InlineData("{\"query\":\"\",\"collectionIds\":[\"00000000-0000-0000-0000-000000000001\"]}", "query")]
    [InlineData("{\"query\":\"x\",\"collectionIds\":[\"00000000-0000-0000-0000-000000000001\"],\"topK\":0}", "topK")]
    [InlineData("{\"query\":\"x\",\"collectionIds\":[\"00000000-0000-0000-0000-000000000001\"],\"topK\":51}", "topK")]
    [InlineData("{\"query\":\"x\"}", "collectionIds")]
    public async Task A_bad_search_is_refused_naming_the_field(string body, string field)
    {
        var response = await app.Client.PostAsync("/api/v1/knowledge/search", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Fact]
    public async Task An_over_long_query_and_a_nameless_library_are_refused_naming_the_field()
    {
        var longQuery = await app.Client.PostAsJsonAsync("/api/v1/knowledge/search", new { query = new string('q', 2001), collectionIds = new[] { Guid.NewGuid() } });
        var nameless = await app.Client.PostAsJsonAsync("/api/v1/knowledge/libraries", new { name = "  " });

        Assert.Equal(HttpStatusCode.BadRequest, longQuery.StatusCode);
        Assert.Contains("MaxQueryChars", await longQuery.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, nameless.StatusCode);
        Assert.True((await nameless.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("name", out _));
    }

    [Fact]
    public async Task Each_limit_names_itself_when_it_is_hit()
    {
        var client = await app.CreateUserClientAsync("limited-" + Guid.NewGuid().ToString("N")[..6]);
        var library = await CreateLibraryAsync(client, "limits");
        var url = $"/api/v1/knowledge/collections/{library.Id}/documents";

        var tooLarge = await PostFileAsync(client, url, "big.txt", new byte[20_001]);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        Assert.Contains("MaxDocumentBytes", await tooLarge.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        for (var i = 0; i < 2; i++)
        {
            var filler = System.Text.Encoding.UTF8.GetBytes(new string((char)('a' + i), 19_000));
            Assert.Equal(HttpStatusCode.Created, (await PostFileAsync(client, url, $"filler-{i}.txt", filler)).StatusCode);
        }

        var overQuota = await PostFileAsync(client, url, "one-more.txt", new byte[15_000].Select(_ => (byte)'z').ToArray());
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, overQuota.StatusCode);
        Assert.Contains("MaxStorageBytesPerUser", await overQuota.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var manyChunks = await UploadAsync(client, (await CreateLibraryAsync(client, "chunks")).Id, "chapters.md",
            System.Text.Encoding.UTF8.GetBytes("# One\n\nFirst.\n\n# Two\n\nSecond.\n\n# Three\n\nThird.\n\n# Four\n\nFourth."));
        var failed = await WaitUntilSettledAsync(client, manyChunks.Id);
        Assert.Equal(DocumentState.Failed, failed.State);
        Assert.Contains("(MaxChunksPerDocument)", failed.Failure, StringComparison.Ordinal);

        await CreateLibraryAsync(client, "third");
        var fourth = await client.PostAsJsonAsync("/api/v1/knowledge/libraries", new { name = "fourth" });
        Assert.Equal(HttpStatusCode.Conflict, fourth.StatusCode);
        Assert.Contains("MaxLibrariesPerUser", await fourth.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_openapi_document_describes_the_knowledge_endpoints()
    {
        var openApi = await app.Client.GetStringAsync("/openapi/v1.json");

        foreach (var path in new[]
                 {
                     "/api/v1/knowledge/libraries", "/api/v1/knowledge/libraries/{libraryId}", "/api/v1/knowledge/collections/{collectionId}/documents",
                     "/api/v1/knowledge/documents/{documentId}", "/api/v1/knowledge/documents/{documentId}/text",
                     "/api/v1/knowledge/documents/{documentId}/content", "/api/v1/knowledge/search", "/api/v1/sessions/{sessionId}/knowledge/documents",
                 })
        {
            Assert.Contains($"\"{path}\"", openApi, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_document_reads_back_as_its_text_by_page_and_downloads_only_as_an_inert_attachment()
    {
        var client = await app.CreateUserClientAsync("reader-" + Guid.NewGuid().ToString("N")[..6]);
        var library = await CreateLibraryAsync(client, "manuals");
        var pdf = TestDocuments.Pdf(
            ["The grinder takes beans of any roast."],
            ["Descale the boiler every two months with citric acid. <script>alert(1)</script>"]);
        var document = await UploadAsync(client, library.Id, "manual.pdf", pdf);
        await WaitUntilReadyAsync(client, document.Id);

        var text = (await client.GetFromJsonAsync<DocumentText>($"/api/v1/knowledge/documents/{document.Id}/text", Json.Options))!;
        Assert.Equal([1, 2], text.Sections.Select(s => s.Page));
        Assert.Contains("Descale the boiler every two months", text.Sections[1].Text, StringComparison.Ordinal);
        Assert.DoesNotContain("Descale", text.Sections[0].Text, StringComparison.Ordinal);

        var download = await client.GetAsync($"/api/v1/knowledge/documents/{document.Id}/content");
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal(pdf, await download.Content.ReadAsByteArrayAsync());
        Assert.Equal("application/octet-stream", download.Content.Headers.ContentType?.MediaType);
        Assert.Equal("attachment", download.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal("manual.pdf", download.Content.Headers.ContentDisposition?.FileNameStar ?? download.Content.Headers.ContentDisposition?.FileName);
        Assert.Equal("nosniff", download.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.StartsWith("sandbox", download.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);

        // Another user: both are 404, as the document itself is.
        var other = await app.CreateUserClientAsync("other-" + Guid.NewGuid().ToString("N")[..6]);
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync($"/api/v1/knowledge/documents/{document.Id}/text")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync($"/api/v1/knowledge/documents/{document.Id}/content")).StatusCode);
    }
}
