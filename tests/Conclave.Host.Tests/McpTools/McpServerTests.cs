using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Bunit;
using Conclave.Agents.Contracts;
using Conclave.Host.Components.Session;
using Conclave.McpTools.Contracts;
using Conclave.Sandbox.Contracts;
using Conclave.Sessions.Contracts;
using Conclave.Testing;
using Conclave.Testing.Host;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Conclave.Host.Tests.McpTools;

/// <summary>Remote MCP servers as tool sources: registered over the API, kept connected, their tools called through the module's contract.</summary>
public sealed class McpServerTests(McpToolsApp app) : IClassFixture<McpToolsApp>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    private IMcpTools Tools => app.Service<IMcpTools>();

    private async Task<McpServerView> RegisterAsync(HttpClient client, object body)
    {
        var response = await client.PostAsJsonAsync("/api/v1/mcp/servers", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, text);
        return JsonSerializer.Deserialize<McpServerView>(text, Json.Options)!;
    }

    private static JsonElement Args(object value) => JsonSerializer.SerializeToElement(value);

    [Fact]
    public async Task A_registered_server_is_connected_its_tools_are_namespaced_and_a_call_returns_its_answer()
    {
        var view = await RegisterAsync(app.Client, new { name = "main", url = app.Main.Url, headers = new Dictionary<string, string> { ["Authorization"] = "Bearer mcp-secret-4711" } });

        Assert.Equal(McpConnectionState.Connected, view.State);
        Assert.Null(view.LastError);
        Assert.Contains(view.Tools, t => t.Name == "main__echo" && t.Description == "Repeats the text.");
        Assert.Contains(view.Tools, t => t.Name == "main__hang");
        Assert.Equal(["Authorization"], view.HeaderNames);

        var result = await Tools.CallAsync(ConclaveApp.DefaultUserId, "main__echo", Args(new { text = "hello" }));
        Assert.False(result.Failed, result.Text);
        Assert.Equal("echo: hello", result.Text);

        // The header's value is stored encrypted and never comes back.
        var listed = await app.Client.GetStringAsync("/api/v1/mcp/servers");
        Assert.Contains("\"main\"", listed);
        Assert.DoesNotContain("mcp-secret-4711", listed);
        await using var connection = new NpgsqlConnection(app.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("select data::text from mcp.mt_doc_server where id = @id", connection);
        command.Parameters.AddWithValue("id", view.Id);
        var row = (string?)await command.ExecuteScalarAsync();
        Assert.NotNull(row);
        Assert.DoesNotContain("mcp-secret-4711", row);
    }

    [Fact]
    public async Task A_server_that_went_down_and_came_back_serves_the_next_call()
    {
        await RegisterAsync(app.Client, new { name = "bouncing", url = app.Bouncing.Url });
        Assert.Equal("echo: one", (await Tools.CallAsync(ConclaveApp.DefaultUserId, "bouncing__echo", Args(new { text = "one" }))).Text);

        await app.Bouncing.StopAsync();
        var down = await Tools.CallAsync(ConclaveApp.DefaultUserId, "bouncing__echo", Args(new { text = "two" }));
        Assert.True(down.Failed);
        Assert.Contains("cannot be reached", down.Text);
        var listed = await app.Client.GetFromJsonAsync<List<McpServerView>>("/api/v1/mcp/servers", Json.Options);
        var state = listed!.Single(s => s.Name == "bouncing");
        Assert.Equal(McpConnectionState.Failed, state.State);
        Assert.False(string.IsNullOrEmpty(state.LastError));

        // Back on the same port, with none of the old sessions: the next call connects afresh and works.
        await app.Bouncing.StartAsync();
        var back = await Tools.CallAsync(ConclaveApp.DefaultUserId, "bouncing__echo", Args(new { text = "three" }));
        Assert.False(back.Failed, back.Text);
        Assert.Equal("echo: three", back.Text);
    }

    [Fact]
    public async Task A_call_that_hangs_ends_at_the_servers_timeout_and_the_connection_goes_on()
    {
        await RegisterAsync(app.Client, new { name = "slow", url = app.Main.Url, timeoutSeconds = 1 });

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var result = await Tools.CallAsync(ConclaveApp.DefaultUserId, "slow__hang", Args(new { }));
        clock.Stop();

        Assert.True(result.Failed);
        Assert.Contains("did not answer within its time limit of 1 s", result.Text);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(10));
        Assert.Equal("echo: still here", (await Tools.CallAsync(ConclaveApp.DefaultUserId, "slow__echo", Args(new { text = "still here" }))).Text);
    }

    [Fact]
    public async Task A_tool_the_server_adds_is_offered_after_its_list_changed_notification()
    {
        await RegisterAsync(app.Client, new { name = "growing", url = app.Main.Url });
        Assert.DoesNotContain(await Tools.ListToolsAsync(ConclaveApp.DefaultUserId), t => t.Name == "growing__added");

        app.Main.AddTool("added", "fresh");

        // The health check comes every 30 s; only the server's notification can bring it sooner.
        await Eventually.Until(
            async () => (await Tools.ListToolsAsync(ConclaveApp.DefaultUserId)).Any(t => t.Name == "growing__added"),
            TimeSpan.FromSeconds(10),
            "the new tool is listed");
        Assert.Equal("fresh", (await Tools.CallAsync(ConclaveApp.DefaultUserId, "growing__added", Args(new { }))).Text);
    }

    [Fact]
    public async Task Addresses_the_egress_policy_refuses_and_bad_fields_are_400_and_nothing_is_stored()
    {
        foreach (var url in new[] { "http://169.254.169.254/mcp", "http://127.0.0.1:1/mcp", "http://localhost:8080/mcp", "http://[::ffff:127.0.0.1]:9/mcp", "file:///etc/passwd" })
        {
            var response = await app.Client.PostAsJsonAsync("/api/v1/mcp/servers", new { name = "refused", url });
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.True(problem.GetProperty("errors").TryGetProperty("url", out _), url);
        }

        foreach (var name in new[] { "", "Upper", "has__double", "9starts-with-digit", new string('a', 25) })
        {
            var response = await app.Client.PostAsJsonAsync("/api/v1/mcp/servers", new { name, url = app.Main.Url });
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        }

        var badHeader = await app.Client.PostAsJsonAsync("/api/v1/mcp/servers", new { name = "header", url = app.Main.Url, headers = new Dictionary<string, string> { ["X-Evil"] = "a\r\nInjected: yes" } });
        Assert.Equal(HttpStatusCode.BadRequest, badHeader.StatusCode);

        var global = await app.Client.PostAsJsonAsync("/api/v1/mcp/servers", new { name = "everyone", url = app.Main.Url, global = true });
        Assert.Equal(HttpStatusCode.Forbidden, global.StatusCode);

        var listed = await app.Client.GetFromJsonAsync<List<McpServerView>>("/api/v1/mcp/servers", Json.Options);
        Assert.DoesNotContain(listed!, s => s.Name is "refused" or "header" or "everyone");
    }

    [Fact]
    public async Task Another_users_server_is_invisible_to_them_and_its_tools_are_not_theirs()
    {
        var mine = await RegisterAsync(app.Client, new { name = "private", url = app.Main.Url });
        var user = await app.CreateUserAsync("mcp-stranger-" + Guid.NewGuid().ToString("N")[..8]);
        using var stranger = await app.CreateUserClientAsync(user.UserName!);

        var theirs = await stranger.GetFromJsonAsync<List<McpServerView>>("/api/v1/mcp/servers", Json.Options);
        Assert.DoesNotContain(theirs!, s => s.Id == mine.Id);
        Assert.DoesNotContain(await Tools.ListToolsAsync(user.Id), t => t.Server == "private");
        var call = await Tools.CallAsync(user.Id, "private__echo", Args(new { text = "x" }));
        Assert.True(call.Failed);
        Assert.Contains("no MCP tool named", call.Text);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.DeleteAsync($"/api/v1/mcp/servers/{mine.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.PostAsync($"/api/v1/mcp/servers/{mine.Id}/reconnect", null)).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await app.Client.DeleteAsync($"/api/v1/mcp/servers/{mine.Id}")).StatusCode);
        Assert.Contains("no MCP tool named", (await Tools.CallAsync(ConclaveApp.DefaultUserId, "private__echo", Args(new { text = "x" }))).Text);
    }

    [Fact]
    public async Task An_agent_calls_an_mcp_tool_after_approval_and_a_made_up_one_gets_the_correction()
    {
        await RegisterAsync(app.Client, new { name = "agentmcp", url = app.Main.Url });
        var offered = app.Service<IAgentTools>().AvailableTo(ConclaveApp.DefaultUserId).Single(t => t.Name == "agentmcp__echo");
        Assert.Equal(("MCP: agentmcp", ToolPolicy.Ask), (offered.Source, offered.DefaultPolicy));

        var created = await app.Client.PostAsJsonAsync("/api/v1/teams", new
        {
            name = $"MCP users {Guid.NewGuid():N}"[..30],
            agents = new[] { new { name = "Caller", systemPrompt = "You call tools.", tools = new[] { "agentmcp__echo" }, askFirst = new[] { "agentmcp__echo" }, color = "#123456" } },
            termination = new { endOnAnswer = true, maxTurns = 6 },
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var team = (await created.Content.ReadFromJsonAsync<TeamDefinition>(Json.Options))!;
        var session = await app.CreateSessionAsync("mcp agent");
        (await app.Client.PutAsJsonAsync($"/api/v1/sessions/{session.Id}/team", new { teamId = team.Id })).EnsureSuccessStatusCode();
        app.Provider.Enqueue(
            Reply.ToolCall("agentmcp__nope", "{}", id: "call_mcp_made_up"),
            Reply.ToolCall("agentmcp__echo", """{"text": "from the agent"}""", id: "call_mcp_echo"));
        var callsBefore = app.Main.Calls;
        var posted = await app.PostMessageAsync(session.Id, "Echo something.");

        await app.WaitForEventAsync<ToolApprovalRequested>(session.Id, a => a.RunId == posted.RunId && a.CallId == "call_mcp_echo", Patience * 4);
        var first = app.Provider.Requests.Count;
        app.Provider.Enqueue(Reply.Text("The server said: echo: from the agent"));
        var approve = await app.Client.PostAsJsonAsync($"/api/v1/sessions/{session.Id}/runs/{posted.RunId}/approvals/call_mcp_echo", new { approve = true });
        Assert.Equal(HttpStatusCode.Accepted, approve.StatusCode);
        Assert.IsType<RunCompleted>((await app.WaitForRunEndAsync(session.Id, posted.RunId, Patience * 4)).Data);

        var completed = (await app.EventsAsync(session.Id)).Select(e => e.Data).OfType<ToolCallCompleted>().ToList();
        var echo = Assert.Single(completed, c => c.CallId == "call_mcp_echo");
        Assert.Equal(ToolOutcome.Ok, echo.Outcome);
        Assert.Equal("echo: from the agent", echo.Output);
        Assert.Equal(callsBefore + 1, app.Main.Calls);
        var toolMessage = app.Provider.Requests[first].Messages.Single(m => m.Role == "tool" && m.ToolCallId == "call_mcp_echo");
        Assert.Equal("echo: from the agent", toolMessage.Content);
        var madeUp = app.Provider.Requests.SelectMany(r => r.Messages).First(m => m.Role == "tool" && m.ToolCallId == "call_mcp_made_up");
        Assert.Contains("There is no tool named 'agentmcp__nope'", madeUp.Content, StringComparison.Ordinal);
        Assert.Contains("agentmcp__echo(text: string)", madeUp.Content, StringComparison.Ordinal);

        // The timeline names the server of an MCP call (and of no built-in tool's).
        await using var context = new BunitContext();
        context.Services.AddSingleton(app.Service<IRunControl>());
        var item = context.Render<ToolCallItem>(p => p
            .Add(x => x.Call, new ToolCallView(echo.CallId, "agentmcp__echo", "{}", echo.Output, echo.Outcome))
            .Add(x => x.Agent, "Caller")
            .Add(x => x.SessionId, session.Id));
        Assert.Equal("MCP: agentmcp", item.Find("[data-testid=tool-source]").TextContent);
        var builtIn = context.Render<ToolCallItem>(p => p
            .Add(x => x.Call, new ToolCallView("call_builtin", "list_files", "{}", "empty", ToolOutcome.Ok))
            .Add(x => x.Agent, "Caller")
            .Add(x => x.SessionId, session.Id));
        Assert.Empty(builtIn.FindAll("[data-testid=tool-source]"));
    }

    [Fact]
    public async Task The_servers_page_shows_each_servers_state_its_last_error_and_its_tools_never_a_header_value()
    {
        await RegisterAsync(app.Client, new { name = "shown", url = app.Main.Url, headers = new Dictionary<string, string> { ["X-Api-Key"] = "page-secret-0815" } });
        await RegisterAsync(app.Client, new { name = "shown-down", url = app.Bouncing.Url });
        await app.Bouncing.StopAsync();
        try
        {
            Assert.True((await Tools.CallAsync(ConclaveApp.DefaultUserId, "shown-down__echo", Args(new { text = "x" }))).Failed);
        }
        finally
        {
            await app.Bouncing.StartAsync();
        }

        using var owner = app.CreateCookieClient();
        await OidcFlow.SignInAsync(owner, ConclaveApp.DefaultUserName, ConclaveApp.Password);

        var page = await owner.GetStringAsync("/mcp-servers");

        var row = page[page.IndexOf("data-server=\"shown\"", StringComparison.Ordinal)..];
        Assert.Contains("Connected", row[..row.IndexOf("</li>", StringComparison.Ordinal)]);
        Assert.Contains("echo, hang", row);
        Assert.Contains("headers: X-Api-Key (stored encrypted)", row);
        Assert.DoesNotContain("page-secret-0815", page);
        var down = page[page.IndexOf("data-server=\"shown-down\"", StringComparison.Ordinal)..];
        down = down[..down.IndexOf("</li>", StringComparison.Ordinal)];
        Assert.Contains("Not reachable", down);
        Assert.Contains("Last error: ", down);
    }

    [Fact]
    public async Task A_local_server_runs_in_the_sessions_sandbox_and_its_tools_ask_before_each_call()
    {
        var session = await app.CreateSessionAsync("local mcp");
        await using (var script = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(LocalMcpServer.Script)))
        {
            await app.Service<IWorkspace>().WriteAsync(session.Id, LocalMcpServer.FileName, script);
        }

        var response = await app.Client.PostAsJsonAsync($"/api/v1/sessions/{session.Id}/mcp-servers", new { name = "local", command = new[] { "python3", LocalMcpServer.FileName } });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, body);
        var view = JsonSerializer.Deserialize<McpServerView>(body, Json.Options)!;
        Assert.Equal((McpConnectionState.Connected, McpTransport.Stdio), (view.State, view.Transport));
        Assert.Equal(["local__add", "local__where"], view.Tools.Select(t => t.Name).Order());

        // A session's local server is not a tool of the user's other sessions, nor listed with the remote ones.
        Assert.DoesNotContain(app.Service<IAgentTools>().AvailableTo(ConclaveApp.DefaultUserId), t => t.Name.StartsWith("local__", StringComparison.Ordinal));
        Assert.DoesNotContain(await app.Client.GetFromJsonAsync<List<McpServerView>>("/api/v1/mcp/servers", Json.Options) ?? [], s => s.Name == "local");

        var created = await app.Client.PostAsJsonAsync("/api/v1/teams", new
        {
            name = $"Local MCP {Guid.NewGuid():N}"[..30],
            agents = new[] { new { name = "Runner", systemPrompt = "You run things.", tools = new[] { "run_python" }, color = "#123456" } },
            termination = new { endOnAnswer = true, maxTurns = 8 },
        });
        var team = (await created.Content.ReadFromJsonAsync<TeamDefinition>(Json.Options))!;
        (await app.Client.PutAsJsonAsync($"/api/v1/sessions/{session.Id}/team", new { teamId = team.Id })).EnsureSuccessStatusCode();
        app.Provider.Enqueue(Reply.ToolCall("local__where", "{}", id: "call_local_where"));
        var posted = await app.PostMessageAsync(session.Id, "Where does your tool run?");

        await app.WaitForEventAsync<ToolApprovalRequested>(session.Id, a => a.RunId == posted.RunId && a.CallId == "call_local_where", Patience * 4);
        app.Provider.Enqueue(
            Reply.ToolCall("local__add", """{"a": 2, "b": 3.5}""", id: "call_local_add"),
            Reply.ToolCall("run_python", """{"code": "import socket; print(socket.gethostname())"}""", id: "call_kernel_host"),
            Reply.Text("Both run in the same sandbox."));
        (await app.Client.PostAsJsonAsync($"/api/v1/sessions/{session.Id}/runs/{posted.RunId}/approvals/call_local_where", new { approve = true, alwaysInSession = false })).EnsureSuccessStatusCode();
        await app.WaitForEventAsync<ToolApprovalRequested>(session.Id, a => a.RunId == posted.RunId && a.CallId == "call_local_add", Patience * 4);
        (await app.Client.PostAsJsonAsync($"/api/v1/sessions/{session.Id}/runs/{posted.RunId}/approvals/call_local_add", new { approve = true })).EnsureSuccessStatusCode();
        Assert.IsType<RunCompleted>((await app.WaitForRunEndAsync(session.Id, posted.RunId, Patience * 4)).Data);

        var completed = (await app.EventsAsync(session.Id)).Select(e => e.Data).OfType<ToolCallCompleted>().ToDictionary(c => c.CallId);
        var where = completed["call_local_where"].Output.Split(' ');
        var kernelHost = completed["call_kernel_host"].Output;
        Assert.Equal(ToolOutcome.Ok, completed["call_local_where"].Outcome);
        Assert.Equal("/workspace", where[1]);
        Assert.Contains(where[0], kernelHost, StringComparison.Ordinal); // the kernel of the session's container has the same hostname
        Assert.NotEqual(Environment.MachineName, where[0]);
        Assert.Equal("5.5", completed["call_local_add"].Output);

        // Another user can neither see nor add to this session's servers.
        var stranger = await app.CreateUserAsync("mcp-local-stranger-" + Guid.NewGuid().ToString("N")[..8]);
        using var client = await app.CreateUserClientAsync(stranger.UserName!);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/v1/sessions/{session.Id}/mcp-servers")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.PostAsJsonAsync($"/api/v1/sessions/{session.Id}/mcp-servers", new { name = "evil", command = new[] { "sh" } })).StatusCode);
        var empty = await app.Client.PostAsJsonAsync($"/api/v1/sessions/{session.Id}/mcp-servers", new { name = "empty", command = Array.Empty<string>() });
        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
    }
}
