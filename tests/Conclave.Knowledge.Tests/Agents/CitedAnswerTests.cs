using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Conclave.Host.Components.Session;
using Conclave.Knowledge.Contracts;
using Conclave.Knowledge.Tests.Fixtures;
using Conclave.Sessions.Contracts;
using Conclave.Testing;
using Conclave.Testing.Host;
using static Conclave.Knowledge.Tests.Fixtures.KnowledgeApp;

namespace Conclave.Knowledge.Tests.Agents;

/// <summary>
/// Documents in, cited answers out, through the whole Host: a PDF uploaded to a session's files is
/// indexed (watched through the live feed), the scripted model calls <c>search_knowledge</c> and
/// cites a passage, and the citation, kept with the message in the session log, outlives a restart.
/// </summary>
public sealed class CitedAnswerTests(KnowledgeApp app) : IClassFixture<KnowledgeApp>
{
    private static readonly TimeSpan RunDeadline = TimeSpan.FromSeconds(60);

    /// <summary>The built-in Assistant team, the one a new session runs with.</summary>
    private static readonly Guid AssistantTeam = new("00000000-0000-7000-8000-00000000a551");

    [Fact]
    public async Task An_answer_cites_the_page_of_an_uploaded_pdf_and_the_citation_outlives_a_restart()
    {
        var session = await app.CreateSessionAsync("espresso contract");
        var pdf = TestDocuments.Pdf(
            ["Sales contract between Alder Kitchens and the buyer for one Zephyr 3000 espresso machine, delivered to the buyer's shop."],
            ["Warranty. The Zephyr 3000 is under warranty for twenty-four months from the date of delivery; wear parts such as gaskets are excluded."],
            ["Payment is due within thirty days of the invoice. Late payments carry interest of one percent per month."]);

        var entry = Assert.Single(await UploadSessionFilesAsync(app.Client, session.Id, addToKnowledge: null, ("contract.pdf", pdf)));
        Assert.Equal("Queued", entry.GetProperty("knowledge").GetProperty("state").GetString());
        var documentId = DocumentIdOf(entry);
        var states = await app.WaitThroughFeedAsync(app.Client, session.Id, documentId);

        Assert.Equal(KnowledgeDocumentState.Ready, states[^1].State);
        Assert.Equal(
            [KnowledgeDocumentState.Queued, KnowledgeDocumentState.Extracting, KnowledgeDocumentState.Embedding, KnowledgeDocumentState.Ready],
            states.Select(s => s.State).Distinct());
        Assert.All(states, s => Assert.Equal("contract.pdf", s.Name));

        var first = app.Provider.Requests.Count;
        app.Provider.Enqueue(
            Reply.ToolCall("search_knowledge", """{"query": "How long is the warranty of the Zephyr 3000?", "top_k": 3}""", id: "call_search_1"),
            Reply.Text("The Zephyr 3000 is under warranty for 24 months from delivery [1]."));
        var posted = await app.PostMessageAsync(session.Id, "How long is the warranty on my espresso machine?");
        var end = await app.WaitForRunEndAsync(session.Id, posted.RunId, RunDeadline);

        Assert.IsType<RunCompleted>(end.Data);
        var asked = app.Provider.Requests[first];
        Assert.Contains("search_knowledge", asked.ToolNames);
        Assert.Contains(KnowledgeToolDefinition.CitationInstructions, asked.Messages[0].Content, StringComparison.Ordinal);
        var toolResult = app.Provider.Requests[first + 1].Messages.Single(m => m.Role == "tool" && m.ToolCallId == "call_search_1");
        Assert.StartsWith("[1] contract.pdf, page 2\n", toolResult.Content, StringComparison.Ordinal);

        var events = await app.EventsAsync(session.Id);
        var searched = events.Select(e => e.Data).OfType<ToolCallCompleted>().Single();
        Assert.Equal(ToolOutcome.Ok, searched.Outcome);
        Assert.Equal((1, documentId, 2), (searched.Passages![0].Number, searched.Passages[0].DocumentId, searched.Passages[0].Page));
        var answer = events.Select(e => e.Data).OfType<AgentMessageCompleted>().Last();
        var cited = events.Select(e => e.Data).OfType<MessageCited>().Single();
        Assert.Equal(answer.MessageId, cited.MessageId);
        AssertCitesPageTwo(cited.Citations, documentId);

        await app.RestartAsync();

        // After the restart, through the REST view of the session's events, as a client reads them.
        var page = await app.Client.GetFromJsonAsync<JsonElement>($"/api/v1/sessions/{session.Id}/events?after=0&limit=500", Json.Options);
        var kept = page.GetProperty("events").EnumerateArray().Single(e => e.GetProperty("type").GetString() == nameof(MessageCited));
        var keptCitations = kept.GetProperty("data").GetProperty("citations").Deserialize<List<Citation>>(Json.Options)!;
        Assert.Equal(answer.MessageId, kept.GetProperty("data").GetProperty("messageId").GetGuid());
        AssertCitesPageTwo(keptCitations, documentId);

        // And in what the session page folds the feed into: the answer with its citation, the document ready.
        var timeline = new TimelineState();
        using var deadline = new CancellationTokenSource(RunDeadline);
        await foreach (var item in app.Service<ISessionFeed>().SubscribeAsync(session.Id, 0, deadline.Token))
        {
            timeline.Apply(item);
            if (timeline.LastVersion == page.GetProperty("lastVersion").GetInt64())
            {
                break;
            }
        }

        AssertCitesPageTwo(timeline.Entries.Single(e => e.MessageId == answer.MessageId).Citations, documentId);
        Assert.Equal((documentId, KnowledgeDocumentState.Ready), timeline.Documents.Select(d => (d.DocumentId, d.State)).Single());
    }

    [Fact]
    public async Task The_tool_is_not_offered_to_a_session_without_knowledge()
    {
        var empty = await app.CreateSessionAsync("no documents");
        var failed = await app.CreateSessionAsync("only a failed document");
        var entry = Assert.Single(await UploadSessionFilesAsync(app.Client, failed.Id, addToKnowledge: null, ("empty.txt", [])));
        Assert.Equal(KnowledgeDocumentState.Failed, (await app.WaitThroughFeedAsync(app.Client, failed.Id, DocumentIdOf(entry)))[^1].State);

        foreach (var session in new[] { empty, failed })
        {
            var first = app.Provider.Requests.Count;
            app.Provider.Enqueue(Reply.Text("I have no documents to look at."));
            var posted = await app.PostMessageAsync(session.Id, "What does my contract say?");
            Assert.IsType<RunCompleted>((await app.WaitForRunEndAsync(session.Id, posted.RunId, RunDeadline)).Data);

            var asked = app.Provider.Requests[first];
            Assert.NotEmpty(asked.ToolNames); // the Assistant's sandbox tools
            Assert.DoesNotContain("search_knowledge", asked.ToolNames);
            Assert.DoesNotContain("search_knowledge", asked.Messages[0].Content, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Another_user_s_documents_never_reach_the_tool()
    {
        // Bob keeps a secret in his session and in a library he attaches to the built-in team Alice runs with too.
        var bob = await app.CreateUserClientAsync("bob-" + Guid.NewGuid().ToString("N")[..6]);
        var bobSession = (await (await bob.PostAsJsonAsync("/api/v1/sessions", new { title = "bob's" })).Content.ReadFromJsonAsync<SessionSummary>(Json.Options))!;
        var secret = Encoding.UTF8.GetBytes("The vault code of the Zephyr project is 7431. Only Bob may know the Zephyr vault code.");
        var bobEntry = Assert.Single(await UploadSessionFilesAsync(bob, bobSession.Id, addToKnowledge: true, ("vault.txt", secret)));
        var library = await CreateLibraryAsync(bob, "bob's secrets");
        var libraryDocument = await UploadAsync(bob, library.Id, "vault-copy.txt", secret);
        Assert.True((await bob.PutAsync($"/api/v1/knowledge/libraries/{library.Id}/attachments/Team/{AssistantTeam}", null)).IsSuccessStatusCode);
        Assert.Equal(KnowledgeDocumentState.Ready, (await app.WaitThroughFeedAsync(bob, bobSession.Id, DocumentIdOf(bobEntry)))[^1].State);
        await WaitUntilReadyAsync(bob, libraryDocument.Id);

        // Alice (the default user) has knowledge of her own about the same project, so she is offered the tool.
        var alice = await app.CreateSessionAsync("alice's");
        var aliceEntry = Assert.Single(await UploadSessionFilesAsync(
            app.Client, alice.Id, addToKnowledge: null, ("zephyr.md", "# Zephyr project\n\nThe Zephyr project team meets on Tuesdays in room 4."u8.ToArray())));
        var aliceDocument = DocumentIdOf(aliceEntry);
        Assert.Equal(KnowledgeDocumentState.Ready, (await app.WaitThroughFeedAsync(app.Client, alice.Id, aliceDocument))[^1].State);

        var first = app.Provider.Requests.Count;
        app.Provider.Enqueue(
            Reply.ToolCall("search_knowledge", """{"query": "vault code of the Zephyr project", "top_k": 20}""", id: "call_vault"),
            Reply.Text("Your documents do not mention a vault code."));
        var posted = await app.PostMessageAsync(alice.Id, "What is the vault code of the Zephyr project?");
        Assert.IsType<RunCompleted>((await app.WaitForRunEndAsync(alice.Id, posted.RunId, RunDeadline)).Data);

        var searched = (await app.EventsAsync(alice.Id)).Select(e => e.Data).OfType<ToolCallCompleted>().Single();
        Assert.Equal([aliceDocument], searched.Passages!.Select(p => p.DocumentId).Distinct());
        Assert.DoesNotContain("7431", searched.Output, StringComparison.Ordinal);
        var toolResult = app.Provider.Requests[first + 1].Messages.Single(m => m.Role == "tool");
        Assert.DoesNotContain("7431", toolResult.Content, StringComparison.Ordinal);
        Assert.DoesNotContain("vault", toolResult.Content, StringComparison.OrdinalIgnoreCase);
    }

    private static void AssertCitesPageTwo(IReadOnlyList<Citation> citations, Guid documentId)
    {
        var citation = Assert.Single(citations);
        Assert.Equal((1, documentId, "contract.pdf", 2), (citation.Number, citation.DocumentId, citation.DocumentName, citation.Page));
        Assert.Contains("twenty-four months", citation.Passage, StringComparison.Ordinal);
    }
}
