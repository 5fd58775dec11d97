using System.Net;
using System.Net.Http.Json;
using System.Text;
using Conclave.Knowledge.Contracts;
using Conclave.Knowledge.Tests.Fixtures;
using Conclave.Testing;
using Conclave.Testing.Host;
using static Conclave.Knowledge.Tests.Fixtures.KnowledgeApp;

namespace Conclave.Knowledge.Tests.Ingest;

/// <summary>Documents go in through the API, are indexed in the background and come back from search with where they came from.</summary>
public sealed class IngestTests(KnowledgeApp app) : IClassFixture<KnowledgeApp>
{
    [Fact]
    public async Task A_pdf_made_in_the_test_is_found_on_its_page()
    {
        var session = await app.CreateSessionAsync("pdf");
        var pdf = TestDocuments.Pdf(
            ["Quarterly report of the lighthouse keepers' guild. The guild maintains eleven lighthouses along the northern coast."],
            ["The fog horn at Skerry Point was replaced in March with an electric diaphone that can be heard twelve nautical miles away."],
            ["Membership fees rise to forty crowns next year; apprentices pay half."]);

        var upload = await PostFileAsync(app.Client, $"/api/v1/sessions/{session.Id}/knowledge/documents", "guild-report.pdf", pdf);

        Assert.Equal(HttpStatusCode.Created, upload.StatusCode);
        var document = (await upload.Content.ReadFromJsonAsync<KnowledgeDocument>(Json.Options))!;
        var ready = await WaitUntilReadyAsync(app.Client, document.Id);
        Assert.Equal("pdf", ready.Kind);
        Assert.Equal(3, ready.Pages);
        Assert.Equal(ready.ChunksTotal, ready.ChunksEmbedded);

        var hits = await SearchAsync(app.Client, new { query = "How far away can the new fog signal be heard?", sessionId = session.Id, topK = 3 });

        var top = hits[0];
        Assert.Equal(document.Id, top.DocumentId);
        Assert.Equal("guild-report.pdf", top.DocumentName);
        Assert.Equal(2, top.Page);
        Assert.Contains("twelve nautical miles", top.Passage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Headings_of_docx_html_markdown_and_csv_come_back_with_the_passage()
    {
        var library = await CreateLibraryAsync(app.Client, "structure");
        var docx = await UploadAsync(app.Client, library.Id, "handbook.docx", TestDocuments.Docx(
            (1, "Onboarding"), (0, "Every new hire receives a laptop on the first day."),
            (2, "Parking"), (0, "Bicycles are parked in the courtyard behind the bakery; cars use the municipal garage.")));
        var html = await UploadAsync(app.Client, library.Id, "garden.html", Encoding.UTF8.GetBytes(
            "<html><head><title>Garden</title></head><body><nav>Home | Up</nav><h1>Roses</h1><p>Prune roses in late winter.</p>" +
            "<h2>Watering</h2><p>Tomatoes want deep watering twice a week during dry spells.</p><script>alert(1)</script></body></html>"));
        var markdown = await UploadAsync(app.Client, library.Id, "notes.md", Encoding.UTF8.GetBytes(
            "# Kitchen\n\nThe sourdough starter lives in the second drawer.\n\n## Oven\n\nThe oven runs twenty degrees hot, so bake bread at 210 instead of 230.\n"));
        var csv = await UploadAsync(app.Client, library.Id, "stations.csv", Encoding.UTF8.GetBytes(
            "station,river,flow_m3s\nGlommen at Solbergfoss,Glomma,698\nBrandval,Glomma,230\n\"Vikersund, lower\",Drammenselva,312\n"));
        foreach (var document in new[] { docx, html, markdown, csv })
        {
            await WaitUntilReadyAsync(app.Client, document.Id);
        }

        async Task<KnowledgeHit> Top(string query) => (await SearchAsync(app.Client, new { query, collectionIds = new[] { library.Id }, topK = 1 }))[0];

        var parking = await Top("Where do I leave my bicycle?");
        Assert.Equal(docx.Id, parking.DocumentId);
        Assert.Equal("Onboarding › Parking", parking.Heading);
        Assert.Null(parking.Page);
        var watering = await Top("how often should tomatoes be watered");
        Assert.Equal(html.Id, watering.DocumentId);
        Assert.Equal("Garden › Roses › Watering", watering.Heading);
        Assert.DoesNotContain("alert", watering.Passage, StringComparison.Ordinal);
        var oven = await Top("what temperature to bake bread");
        Assert.Equal(markdown.Id, oven.DocumentId);
        Assert.Equal("Kitchen › Oven", oven.Heading);
        var flow = await Top("Drammenselva flow at Vikersund");
        Assert.Equal(csv.Id, flow.DocumentId);
        Assert.Equal("Columns: station,river,flow_m3s", flow.Heading);
        Assert.Contains("\"Vikersund, lower\",Drammenselva,312", flow.Passage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_changed_document_replaces_its_chunks_and_identical_content_is_indexed_once()
    {
        var library = await CreateLibraryAsync(app.Client, "versions");
        var first = await UploadAsync(app.Client, library.Id, "policy.md", Encoding.UTF8.GetBytes("# Policy\n\nVisitors sign in at the amber desk."));
        await WaitUntilReadyAsync(app.Client, first.Id);

        var same = await PostFileAsync(app.Client, $"/api/v1/knowledge/collections/{library.Id}/documents", "policy.md", Encoding.UTF8.GetBytes("# Policy\n\nVisitors sign in at the amber desk."));
        Assert.Equal(HttpStatusCode.OK, same.StatusCode);
        Assert.Equal(first.Id, (await same.Content.ReadFromJsonAsync<KnowledgeDocument>(Json.Options))!.Id);

        var second = await UploadAsync(app.Client, library.Id, "policy.md", Encoding.UTF8.GetBytes("# Policy\n\nVisitors sign in at the turquoise kiosk."));
        Assert.Equal(first.Id, second.Id);
        Assert.Equal(2, second.Version);
        var secondReady = await WaitUntilReadyAsync(app.Client, second.Id);

        var hits = await SearchAsync(app.Client, new { query = "amber desk", collectionIds = new[] { library.Id }, mode = "FullText" });
        Assert.Empty(hits);
        Assert.Equal(0L, await app.ScalarAsync<long>("SELECT count(*) FROM knowledge.chunks WHERE document_id = @id AND body LIKE '%amber%'", ("id", first.Id)));
        Assert.Equal(0L, await app.ScalarAsync<long>("SELECT count(*) FROM knowledge.sources WHERE document_id = @id AND version = 1", ("id", first.Id)));
        var now = await SearchAsync(app.Client, new { query = "where do visitors sign in", collectionIds = new[] { library.Id } });
        Assert.Contains("turquoise kiosk", now[0].Passage, StringComparison.Ordinal);

        // The same content in another library: its chunks are copied from the indexed twin, not embedded again.
        var other = await CreateLibraryAsync(app.Client, "versions copy");
        var twin = await UploadAsync(app.Client, other.Id, "copy-of-policy.md", Encoding.UTF8.GetBytes("# Policy\n\nVisitors sign in at the turquoise kiosk."));
        var twinReady = await WaitUntilReadyAsync(app.Client, twin.Id);
        Assert.Equal(second.Sha256, twinReady.Sha256);
        Assert.Equal(secondReady.ChunksTotal, twinReady.ChunksTotal);
        Assert.Contains(app.Logs.Lines, l => l.Contains($"Document {twin.Id} has the content of ready document {first.Id}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Deleting_a_document_or_its_session_takes_its_chunks_out_of_search()
    {
        var session = await app.CreateSessionAsync("to be deleted");
        var url = $"/api/v1/sessions/{session.Id}/knowledge/documents";
        var kept = (await (await PostFileAsync(app.Client, url, "kept.txt", "The walrus colony sleeps on the eastern ice floe."u8.ToArray()))
            .Content.ReadFromJsonAsync<KnowledgeDocument>(Json.Options))!;
        var dropped = (await (await PostFileAsync(app.Client, url, "dropped.txt", "The narwhal pod feeds near the glacier front."u8.ToArray()))
            .Content.ReadFromJsonAsync<KnowledgeDocument>(Json.Options))!;
        await WaitUntilReadyAsync(app.Client, kept.Id);
        await WaitUntilReadyAsync(app.Client, dropped.Id);

        Assert.Equal(HttpStatusCode.NoContent, (await app.Client.DeleteAsync($"/api/v1/knowledge/documents/{dropped.Id}")).StatusCode);

        Assert.Equal(HttpStatusCode.NotFound, (await app.Client.GetAsync($"/api/v1/knowledge/documents/{dropped.Id}")).StatusCode);
        var hits = await SearchAsync(app.Client, new { query = "narwhal glacier", sessionId = session.Id });
        Assert.DoesNotContain(hits, h => h.DocumentId == dropped.Id);
        Assert.Contains(hits, h => h.DocumentId == kept.Id);

        Assert.Equal(HttpStatusCode.NoContent, (await app.Client.DeleteAsync($"/api/v1/sessions/{session.Id}")).StatusCode);

        // SessionRemoved reaches the module through its durable queue.
        await Conclave.Testing.Eventually.Until(
            async () => await app.ScalarAsync<long>("SELECT count(*) FROM knowledge.chunks WHERE document_id = @id", ("id", kept.Id)) == 0,
            TimeSpan.FromSeconds(30),
            "the deleted session's chunks are gone");
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client.GetAsync($"/api/v1/knowledge/documents/{kept.Id}")).StatusCode);
        Assert.Equal(0L, await app.ScalarAsync<long>("SELECT count(*) FROM knowledge.collections WHERE session_id = @id", ("id", session.Id)));
    }
}
