using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Conclave.Agents.Contracts;
using Conclave.Bench.Common;
using Conclave.Sessions.Contracts;
using Conclave.Testing;
using Conclave.Testing.Host;
using Microsoft.AspNetCore.WebUtilities;
using ModelContextProtocol.Authentication;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

// Prints issue 16's figures for approvals and for Conclave as an MCP server: the time from Approve (REST) to the
// tool starting, and a run_team round trip over MCP (sign-in done once) against the same run started over REST.
// Run: source .data/env.sh; Logging__LogLevel__Default=Warning dotnet run -c Release --project bench/Conclave.Bench.Mcp [-- --smoke]
//   --smoke  tiny n, no thresholds (test.sh runs every bench this way); a run that goes wrong still fails it
var smoke = args.Contains("--smoke");
var approvals = smoke ? 3 : 30;
var roundTrips = smoke ? 3 : 30;
const int WarmUp = 3;
var deadline = TimeSpan.FromSeconds(60);
var failures = 0;
var table = new Table(smoke);

var app = ConclaveApp.OnKestrel();
app.ExtraSettings["Conclave:Models:Default:MaxRetries"] = "0";
await app.InitializeAsync();
try
{
    // 1. Approve to tool start: a one-agent team asking before list_files; the run waits, the bench approves over REST
    // and reads when the call started from its ToolCallCompleted (At - Duration, on the Host's clock, which is this process's).
    var careful = await TeamAsync(app, "Careful clerk", askFirst: true);
    var approveToStart = new List<double>();
    for (var i = 0; i < WarmUp + approvals; i++)
    {
        var session = await app.CreateSessionAsync($"approval {i}");
        (await app.Client.PutAsJsonAsync($"/api/v1/sessions/{session.Id}/team", new { teamId = careful })).EnsureSuccessStatusCode();
        app.Provider.Enqueue(Reply.ToolCall("list_files", "{}", id: $"call_{i}"), Reply.Text("Nothing there."));
        var posted = await app.PostMessageAsync(session.Id, "Look at my files.");
        await app.WaitForEventAsync<ToolApprovalRequested>(session.Id, a => a.RunId == posted.RunId, deadline);

        var clicked = DateTimeOffset.UtcNow;
        var approved = await app.Client.PostAsJsonAsync($"/api/v1/sessions/{session.Id}/runs/{posted.RunId}/approvals/call_{i}", new { approve = true });
        var end = await app.WaitForRunEndAsync(session.Id, posted.RunId, deadline);
        var done = (await app.EventsAsync(session.Id)).Select(e => e.Data).OfType<ToolCallCompleted>().SingleOrDefault();
        if (approved.StatusCode != HttpStatusCode.Accepted || end.Data is not RunCompleted || done is not { Outcome: ToolOutcome.Ok })
        {
            failures++;
            table.Note($"approval {i}: answered {(int)approved.StatusCode}, ended with {end.Type}, call {done?.Outcome.ToString() ?? "missing"}");
            continue;
        }

        if (i >= WarmUp)
        {
            approveToStart.Add((done.At - done.Duration - clicked).TotalMilliseconds);
        }
    }

    table.Add(Figure.Of("Approve (REST) to the tool starting", approveToStart, "ms", Target.Latency(200, null)));

    // 2. run_team over MCP: the SDK's client (signed in once by code + PKCE) calls run_team on the built-in Assistant with
    // an instant model; the same run over REST (create, pick the team, post, wait for RunCompleted on the feed) beside it.
    app.Provider.RespondWith(request => Reply.Text($"Answer {request.Index}.").InChunks(2));
    await using var mcp = await ConnectAsync(app);
    var overMcp = new List<double>();
    var overRest = new List<double>();
    for (var i = 0; i < WarmUp + roundTrips; i++)
    {
        var started = Stopwatch.GetTimestamp();
        var result = await mcp.CallToolAsync("run_team", new Dictionary<string, object?> { ["team"] = "Assistant", ["prompt"] = $"Question {i}" });
        var mcpTook = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        if (result.IsError == true || !result.Content.OfType<TextContentBlock>().Any(t => t.Text.StartsWith("Answer ", StringComparison.Ordinal)))
        {
            failures++;
            table.Note($"run_team {i}: {string.Concat(result.Content.OfType<TextContentBlock>().Select(t => t.Text))}");
            continue;
        }

        started = Stopwatch.GetTimestamp();
        var session = await app.CreateSessionAsync($"rest {i}");
        (await app.Client.PutAsJsonAsync($"/api/v1/sessions/{session.Id}/team", new { teamId = DefaultTeam.Id })).EnsureSuccessStatusCode();
        var posted = await app.PostMessageAsync(session.Id, $"Question {i}");
        var end = await app.WaitForRunEndAsync(session.Id, posted.RunId, deadline);
        var restTook = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        if (end.Data is not RunCompleted)
        {
            failures++;
            table.Note($"REST run {i} ended with {end.Type}");
            continue;
        }

        if (i >= WarmUp)
        {
            overMcp.Add(mcpTook);
            overRest.Add(restTook);
        }
    }

    table.Add(Figure.Of("run_team over MCP, call to answer (new session, instant model)", overMcp, "ms", Target.None));
    table.Add(Figure.Of("the same run over REST: create, pick team, post, RunCompleted on the feed", overRest, "ms", Target.None));
    table.Add(Figure.Count("approvals or runs that went wrong", failures, "runs", Target.NoneAllowed));
    return table.ExitCode;
}
finally
{
    table.Print();
    await app.DisposeAsync();
}

static async Task<Guid> TeamAsync(ConclaveApp app, string name, bool askFirst)
{
    var created = await app.Client.PostAsJsonAsync("/api/v1/teams", new
    {
        name,
        agents = new[] { new { name = "Clerk", systemPrompt = "You are a careful clerk.", tools = new[] { "list_files" }, askFirst = askFirst ? new[] { "list_files" } : [], color = "#123456" } },
        termination = new { endOnAnswer = true, maxTurns = 6 },
    });
    created.EnsureSuccessStatusCode();
    return (await created.Content.ReadFromJsonAsync<TeamDefinition>(Json.Options))!.Id;
}

// The default user signs in through the login form; the SDK's OAuth support does the rest (ADR 0020: an admin-registered client).
static async Task<McpClient> ConnectAsync(ConclaveApp app)
{
    var redirectUri = new Uri("http://127.0.0.1:9/mcp-callback");
    await app.RegisterClientAsync("mcp-bench", redirectUri);
    var browser = app.CreateCookieClient();
    var login = await OidcFlow.SignInAsync(browser, ConclaveApp.DefaultUserName, ConclaveApp.Password);
    if (login.StatusCode != HttpStatusCode.Redirect)
    {
        throw new InvalidOperationException($"Signing in answered {(int)login.StatusCode}.");
    }

    return await McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions
    {
        Endpoint = new Uri(app.BaseAddress, "mcp"),
        OAuth = new ClientOAuthOptions
        {
            ClientId = "mcp-bench",
            RedirectUri = redirectUri,
            AuthorizationCallbackHandler = async (context, ct) =>
            {
                var redirect = await browser.GetAsync(context.AuthorizationUri, ct);
                var query = QueryHelpers.ParseQuery(redirect.Headers.Location?.Query);
                return new AuthorizationResult { Code = query["code"], State = query["state"], Iss = query.TryGetValue("iss", out var iss) ? iss.ToString() : null };
            },
        },
    }));
}
