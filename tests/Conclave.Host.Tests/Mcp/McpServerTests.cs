using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Conclave.Agents.Contracts;
using Conclave.Knowledge.Contracts;
using Conclave.Sessions.Contracts;
using Conclave.Testing;
using Conclave.Testing.Host;
using Microsoft.AspNetCore.WebUtilities;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace Conclave.Host.Tests.Mcp;

/// <summary>
/// Conclave as an MCP server (ADR 0020), driven by the SDK's own client over real HTTP: it signs in by code + PKCE on
/// our OpenIddict server with a token bound to the MCP resource, runs a team with progress notifications, lists
/// sessions and searches a library, always as the caller. Without a token, or with one for another audience, /mcp is
/// a 401 pointing to the protected-resource metadata.
/// </summary>
public sealed class McpServerTests(McpApp app) : IClassFixture<McpApp>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan IngestDeadline = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task A_client_signs_in_by_code_and_pkce_then_run_team_streams_progress_and_returns_the_answer_and_the_session_link()
    {
        var user = await NewUserAsync("mcp-ann");
        await using var mcp = await McpSignIn.ConnectAsync(app, user);

        var authorize = QueryHelpers.ParseQuery(Assert.Single(mcp.Authorizations).Query);
        Assert.Equal(app.McpEndpoint.ToString(), authorize["resource"].ToString());
        Assert.Equal("S256", authorize["code_challenge_method"].ToString());
        Assert.Contains("conclave.write", authorize["scope"].ToString(), StringComparison.Ordinal);
        var tools = await mcp.Client.ListToolsAsync();
        Assert.Equal(["list_sessions", "run_team", "search_knowledge"], tools.Select(t => t.Name).Order());

        app.Provider.Enqueue(Reply.Chunks("The capital ", "of France ", "is Paris."));
        var progress = new Notes();
        var result = await mcp.Client.CallToolAsync(
            "run_team", new Dictionary<string, object?> { ["team"] = "assistant", ["prompt"] = "What is the capital of France?" }, progress);

        Assert.True(result.IsError != true, Text(result));
        Assert.Equal("The capital of France is Paris.", Text(result));
        var link = Assert.Single(result.Content.OfType<ResourceLinkBlock>()).Uri;
        Assert.StartsWith(new Uri(app.BaseAddress, "sessions/").ToString(), link, StringComparison.Ordinal);
        var sessionId = Guid.Parse(link[(link.LastIndexOf('/') + 1)..]);
        await Eventually.Until(() => progress.Messages.Any(m => m == "Assistant: The capital of France is Paris."), Deadline, "the completed message was a progress step");
        Assert.StartsWith("Session started with Assistant", progress.InOrder[0], StringComparison.Ordinal);
        Assert.Equal(progress.Values.Count, progress.Values.Distinct().Count());
        // The client may hand notifications over out of order; their values give the order the run took.
        Assert.Equal(
            ["The capital ", "of France ", "is Paris.", "Assistant: The capital of France is Paris."],
            progress.InOrder.SkipWhile(m => m != "The capital ").Take(4));

        var listed = await mcp.Client.CallToolAsync("list_sessions", new Dictionary<string, object?>());
        var sessions = JsonDocument.Parse(Text(listed)).RootElement.GetProperty("sessions").EnumerateArray().ToList();
        var session = Assert.Single(sessions);
        Assert.Equal(sessionId, session.GetProperty("id").GetGuid());
        Assert.Equal("What is the capital of France?", session.GetProperty("title").GetString());
        Assert.Equal("Assistant", session.GetProperty("team").GetString());
        Assert.Equal(nameof(RunStatus.Completed), session.GetProperty("lastRunStatus").GetString());
        Assert.Equal(link, session.GetProperty("link").GetString());

        // The session is the user's own, like one started from the page.
        var owner = await app.CreateUserClientAsync(user);
        Assert.Equal(HttpStatusCode.OK, (await owner.GetAsync($"/api/v1/sessions/{sessionId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client.GetAsync($"/api/v1/sessions/{sessionId}")).StatusCode);
    }

    [Fact]
    public async Task Cancelling_a_run_team_call_cancels_the_run_and_the_session_keeps_it()
    {
        var user = await NewUserAsync("mcp-stop");
        await using var mcp = await McpSignIn.ConnectAsync(app, user);
        var asked = app.Provider.Requests.Count;
        app.Provider.Enqueue(Reply.Chunks("Thinking ", "very ", "slowly.").Gated());
        var progress = new Notes();
        using var cancel = new CancellationTokenSource();

        var call = mcp.Client.CallToolAsync(
            "run_team", new Dictionary<string, object?> { ["team"] = "Assistant", ["prompt"] = "Think about it." }, progress, cancellationToken: cancel.Token).AsTask();
        await app.Provider.WaitForRequestAsync(asked, Deadline);
        await Eventually.Until(() => progress.Messages.Any(m => m.StartsWith("Session started", StringComparison.Ordinal)), Deadline, "the session was announced");
        var started = progress.InOrder[0];
        var sessionId = Guid.Parse(started[(started.LastIndexOf('/') + 1)..]);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        await app.WaitForEventAsync<RunCancelled>(sessionId, timeout: Deadline);
        var kept = Assert.Single(await app.Service<ISessions>().ListAsync(OwnerOf(user), CancellationToken.None));
        Assert.Equal((sessionId, RunStatus.Cancelled), (kept.Id, kept.LastRunStatus));
    }

    [Fact]
    public async Task Search_knowledge_finds_a_passage_of_the_caller_s_library_and_another_user_s_library_or_team_is_not_found()
    {
        var ann = await NewUserAsync("mcp-kb-ann");
        var bob = await NewUserAsync("mcp-kb-bob");
        var annApi = await app.CreateUserClientAsync(ann);
        var bobApi = await app.CreateUserClientAsync(bob);
        var annLibrary = await LibraryWithAsync(annApi, "Field notes", "owls.md",
            "# Owls\n\nThe tawny owl nests in old oak hollows and calls at dusk with a long hoot.\n\n# Ravens\n\nRavens gather at the quarry in winter.");
        var bobLibrary = await LibraryWithAsync(bobApi, "Bob's vault", "vault.md", "# Vault\n\nThe vault code of the Zephyr project is 7431.");
        var bobTeam = await (await bobApi.PostAsJsonAsync("/api/v1/teams", new
        {
            name = "Bob's private team",
            agents = new[] { new { name = "Clerk", systemPrompt = "You are a clerk.", tools = Array.Empty<string>(), color = "#123456" } },
        })).Content.ReadFromJsonAsync<TeamDefinition>(Json.Options);

        await using var mcp = await McpSignIn.ConnectAsync(app, ann);
        var found = await mcp.Client.CallToolAsync(
            "search_knowledge", new Dictionary<string, object?> { ["library"] = "field notes", ["query"] = "where does the tawny owl nest?", ["top_k"] = 3 });

        Assert.True(found.IsError != true, Text(found));
        Assert.StartsWith("[1] owls.md", Text(found), StringComparison.Ordinal);
        Assert.Contains("old oak hollows", Text(found), StringComparison.Ordinal);

        foreach (var library in new[] { "Bob's vault", bobLibrary.ToString() })
        {
            var refused = await mcp.Client.CallToolAsync("search_knowledge", new Dictionary<string, object?> { ["library"] = library, ["query"] = "vault code" });
            Assert.True(refused.IsError, Text(refused));
            Assert.True(Text(refused).Contains($"Library '{library}' was not found", StringComparison.Ordinal), Text(refused));
            Assert.DoesNotContain("7431", Text(refused), StringComparison.Ordinal);
        }

        var badTopK = await mcp.Client.CallToolAsync(
            "search_knowledge", new Dictionary<string, object?> { ["library"] = annLibrary.ToString(), ["query"] = "owls", ["top_k"] = 500 });
        Assert.True(badTopK.IsError);
        Assert.Contains("50", Text(badTopK), StringComparison.Ordinal);

        var requests = app.Provider.Requests.Count;
        var foreignTeam = await mcp.Client.CallToolAsync("run_team", new Dictionary<string, object?> { ["team"] = bobTeam!.Id.ToString(), ["prompt"] = "Hello" });
        Assert.True(foreignTeam.IsError);
        Assert.Contains($"Team '{bobTeam.Id}' was not found", Text(foreignTeam), StringComparison.Ordinal);
        var noPrompt = await mcp.Client.CallToolAsync("run_team", new Dictionary<string, object?> { ["team"] = "Assistant", ["prompt"] = "  " });
        Assert.True(noPrompt.IsError);
        Assert.Contains("Give the team a prompt", Text(noPrompt), StringComparison.Ordinal);
        Assert.Equal(requests, app.Provider.Requests.Count);
        Assert.Empty(JsonDocument.Parse(Text(await mcp.Client.CallToolAsync("list_sessions", new Dictionary<string, object?>())))
            .RootElement.GetProperty("sessions").EnumerateArray());
    }

    [Fact]
    public async Task Without_a_token_mcp_is_a_401_pointing_to_the_protected_resource_metadata_which_names_our_authorization_server()
    {
        using var anonymous = new HttpClient { BaseAddress = app.BaseAddress };

        var refused = await anonymous.SendAsync(Initialize());

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        var metadataUrl = new Uri(app.BaseAddress, ".well-known/oauth-protected-resource");
        Assert.Equal($"Bearer resource_metadata=\"{metadataUrl}\"", Assert.Single(refused.Headers.WwwAuthenticate).ToString());
        var metadata = await anonymous.GetFromJsonAsync<JsonElement>(metadataUrl);
        Assert.Equal(app.McpEndpoint.ToString(), metadata.GetProperty("resource").GetString());
        var issuer = Assert.Single(metadata.GetProperty("authorization_servers").EnumerateArray()).GetString();
        Assert.Equal(["conclave.write"], metadata.GetProperty("scopes_supported").EnumerateArray().Select(s => s.GetString()));
        var discovery = await anonymous.GetFromJsonAsync<JsonElement>(".well-known/openid-configuration");
        Assert.Equal(issuer, discovery.GetProperty("issuer").GetString());
        Assert.Equal(["S256"], discovery.GetProperty("code_challenge_methods_supported").EnumerateArray().Select(s => s.GetString()));
    }

    [Fact]
    public async Task A_token_for_another_audience_is_a_401_one_without_the_write_scope_a_403_and_a_token_for_the_mcp_server_is_no_api_token()
    {
        var user = await NewUserAsync("mcp-aud");
        var apiTokens = await app.SignInForTokensAsync(user);
        using var withApiToken = new HttpClient { BaseAddress = app.BaseAddress };
        withApiToken.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiTokens.AccessToken);

        var refused = await withApiToken.SendAsync(Initialize());

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Contains("resource_metadata=", Assert.Single(refused.Headers.WwwAuthenticate).ToString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await withApiToken.GetAsync("/api/v1/sessions")).StatusCode);

        await using var mcp = await McpSignIn.ConnectAsync(app, user);
        var mcpToken = (await mcp.Tokens.GetTokensAsync(CancellationToken.None))!.AccessToken;
        using var withMcpToken = new HttpClient { BaseAddress = app.BaseAddress };
        withMcpToken.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", mcpToken);
        Assert.Equal(HttpStatusCode.Forbidden, (await withMcpToken.GetAsync("/api/v1/sessions")).StatusCode);

        // A token for the MCP server without conclave.write: 403 naming the scope to ask for.
        using var browser = app.CreateCookieClient();
        await OidcFlow.SignInAsync(browser, user, ConclaveApp.Password);
        var pkce = OidcFlow.Pkce.Create();
        var readOnlyCode = OidcFlow.CodeFrom(
            await browser.GetAsync(OidcFlow.AuthorizeUrl(McpApp.McpClientId, McpApp.McpRedirectUri, "conclave.read", pkce) + "&resource=" + Uri.EscapeDataString(app.McpEndpoint.ToString())),
            McpApp.McpRedirectUri);
        var readOnly = await OidcFlow.RedeemAsync(browser, McpApp.McpClientId, McpApp.McpRedirectUri, readOnlyCode, pkce.Verifier);
        using var withReadOnly = new HttpClient { BaseAddress = app.BaseAddress };
        withReadOnly.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", readOnly.AccessToken);
        var forbidden = await withReadOnly.SendAsync(Initialize());
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.StartsWith("Bearer error=\"insufficient_scope\", scope=\"conclave.write\"", Assert.Single(forbidden.Headers.WwwAuthenticate).ToString(), StringComparison.Ordinal);

        // Our server issues tokens for itself only: another resource is refused at the authorize endpoint.
        var elsewhere = await browser.GetAsync(OidcFlow.AuthorizeUrl(McpApp.McpClientId, McpApp.McpRedirectUri, "conclave.write", OidcFlow.Pkce.Create())
                                               + "&resource=" + Uri.EscapeDataString("https://elsewhere.example/mcp"));
        Assert.Equal(HttpStatusCode.Redirect, elsewhere.StatusCode);
        Assert.Equal("invalid_target", QueryHelpers.ParseQuery(elsewhere.Headers.Location!.Query)["error"].ToString());
    }

    private string OwnerOf(string userName) => _owners[userName];

    private readonly Dictionary<string, string> _owners = [];

    private async Task<string> NewUserAsync(string prefix)
    {
        var name = $"{prefix}-{Guid.NewGuid().ToString("N")[..6]}";
        _owners[name] = (await app.CreateUserAsync(name)).Id;
        return name;
    }

    /// <summary>A library of the client's user holding one Markdown document, once it is searchable.</summary>
    private static async Task<Guid> LibraryWithAsync(HttpClient client, string name, string fileName, string markdown)
    {
        var created = await client.PostAsJsonAsync("/api/v1/knowledge/libraries", new { name });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var library = (await created.Content.ReadFromJsonAsync<KnowledgeCollection>(Json.Options))!;
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(Encoding.UTF8.GetBytes(markdown));
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(file, "file", fileName);
        var uploaded = await client.PostAsync($"/api/v1/knowledge/collections/{library.Id}/documents", form);
        Assert.True(uploaded.IsSuccessStatusCode, await uploaded.Content.ReadAsStringAsync());
        var document = (await uploaded.Content.ReadFromJsonAsync<KnowledgeDocument>(Json.Options))!;
        KnowledgeDocument? last = null;
        await Eventually.Until(
            async () => (last = await client.GetFromJsonAsync<KnowledgeDocument>($"/api/v1/knowledge/documents/{document.Id}", Json.Options))!.State
                is DocumentState.Ready or DocumentState.Failed,
            IngestDeadline,
            $"{fileName} was ingested");
        Assert.Equal(DocumentState.Ready, last!.State);
        return library.Id;
    }

    private static HttpRequestMessage Initialize() => new(HttpMethod.Post, "mcp")
    {
        Content = JsonContent.Create(new
        {
            jsonrpc = "2.0",
            id = 1,
            method = "initialize",
            @params = new { protocolVersion = "2025-06-18", capabilities = new { }, clientInfo = new { name = "raw", version = "1" } },
        }),
        Headers = { Accept = { new MediaTypeWithQualityHeaderValue("application/json"), new MediaTypeWithQualityHeaderValue("text/event-stream") } },
    };

    private static string Text(CallToolResult result) => string.Concat(result.Content.OfType<TextContentBlock>().Select(t => t.Text));

    /// <summary>Progress notifications as they arrive (on the client's receive loop, not a synchronisation context).</summary>
    private sealed class Notes : IProgress<ProgressNotificationValue>
    {
        private readonly ConcurrentQueue<ProgressNotificationValue> _received = new();

        public IReadOnlyList<string> Messages => [.. _received.Select(n => n.Message ?? "")];

        public IReadOnlyList<float> Values => [.. _received.Select(n => n.Progress)];

        public IReadOnlyList<string> InOrder => [.. _received.OrderBy(n => n.Progress).Select(n => n.Message ?? "")];

        public void Report(ProgressNotificationValue value) => _received.Enqueue(value);
    }
}
