using System.Net;
using System.Text;
using Conclave.Knowledge.Tests.Fixtures;
using static Conclave.Knowledge.Tests.Fixtures.KnowledgeApp;

namespace Conclave.Knowledge.Tests.Retrieval;

/// <summary>Owners and tenancy work as for sessions: a search reaches only the caller's chunks; another's library or document is 404.</summary>
public sealed class TenancyTests(KnowledgeApp app) : IClassFixture<KnowledgeApp>
{
    [Fact]
    public async Task Two_users_with_the_same_text_each_find_only_their_own_chunks()
    {
        var alice = await app.CreateUserClientAsync("alice-" + Guid.NewGuid().ToString("N")[..6]);
        var bob = await app.CreateUserClientAsync("bob-" + Guid.NewGuid().ToString("N")[..6]);
        var text = Encoding.UTF8.GetBytes("The secret recipe uses cardamom, brown butter and a pinch of smoked salt.");
        var aliceLibrary = await CreateLibraryAsync(alice, "recipes");
        var bobLibrary = await CreateLibraryAsync(bob, "recipes");
        var aliceDocument = await UploadAsync(alice, aliceLibrary.Id, "recipe.txt", text);
        var bobDocument = await UploadAsync(bob, bobLibrary.Id, "recipe.txt", text);
        await WaitUntilReadyAsync(alice, aliceDocument.Id);
        await WaitUntilReadyAsync(bob, bobDocument.Id);

        // Each names both libraries: the other's matches nothing.
        var both = new[] { aliceLibrary.Id, bobLibrary.Id };
        var aliceHits = await SearchAsync(alice, new { query = "what spices are in the secret recipe", collectionIds = both });
        var bobHits = await SearchAsync(bob, new { query = "what spices are in the secret recipe", collectionIds = both });

        Assert.Equal([aliceDocument.Id], aliceHits.Select(h => h.DocumentId).Distinct());
        Assert.Equal([bobDocument.Id], bobHits.Select(h => h.DocumentId).Distinct());
        Assert.Empty(await SearchAsync(alice, new { query = "cardamom", collectionIds = new[] { bobLibrary.Id } }));

        Assert.Equal(HttpStatusCode.NotFound, (await alice.GetAsync($"/api/v1/knowledge/documents/{bobDocument.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await alice.GetAsync($"/api/v1/knowledge/libraries/{bobLibrary.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await alice.GetAsync($"/api/v1/knowledge/collections/{bobLibrary.Id}/documents")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await alice.DeleteAsync($"/api/v1/knowledge/documents/{bobDocument.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await alice.DeleteAsync($"/api/v1/knowledge/libraries/{bobLibrary.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound,
            (await PostFileAsync(alice, $"/api/v1/knowledge/collections/{bobLibrary.Id}/documents", "sneaky.txt", "planted"u8.ToArray())).StatusCode);
        var bobSession = await bob.PostAsync("/api/v1/sessions", System.Net.Http.Json.JsonContent.Create(new { title = "bob's" }));
        var bobSessionId = (await System.Net.Http.Json.HttpContentJsonExtensions.ReadFromJsonAsync<Conclave.Sessions.Contracts.SessionSummary>(bobSession.Content, Conclave.Testing.Host.Json.Options))!.Id;
        Assert.Equal(HttpStatusCode.NotFound,
            (await PostFileAsync(alice, $"/api/v1/sessions/{bobSessionId}/knowledge/documents", "sneaky.txt", "planted"u8.ToArray())).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await alice.PutAsync($"/api/v1/knowledge/libraries/{aliceLibrary.Id}/attachments/Session/{bobSessionId}", null)).StatusCode);
        Assert.Equal(1L, await app.ScalarAsync<long>("SELECT count(*) FROM knowledge.documents WHERE collection_id = @id", ("id", bobLibrary.Id)));
    }
}
