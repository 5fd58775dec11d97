using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Conclave.Agents.Contracts;
using Conclave.Sandbox.Contracts;
using Conclave.Sessions.Contracts;
using Conclave.Testing.Host;

namespace Conclave.Host.Tests.Teams;

/// <summary>Teams over HTTP: the caller's own teams, the read-only built-ins, clones and a session's choice.</summary>
[Collection(SharedHost.Name)]
public sealed class TeamApiTests(ConclaveApp app)
{
    private static readonly Guid AssistantId = new("00000000-0000-7000-8000-00000000a551");
    private static readonly Guid PlannerCoderCriticId = new("00000000-0000-7000-8000-0000000000c3");

    private static object Team(string name, params object[] agents) => new
    {
        name,
        description = "Two agents",
        selection = "RoundRobin",
        agents = agents.Length > 0 ? agents : [Agent("Writer"), Agent("Reviewer")],
        termination = new { keyword = "DONE", keywordAgent = "Reviewer", maxTurns = 8, maxTokens = 50_000, maxCost = 1.5m, maxDuration = "00:10:00" },
    };

    private static object Agent(string name, string[]? tools = null, string color = "#112233") => new
    {
        name,
        role = $"The {name.ToLowerInvariant()}",
        systemPrompt = $"You are {name}.",
        tools = tools ?? [SandboxToolCatalog.RunPython.Name],
        color,
    };

    [Fact]
    public async Task A_team_goes_through_create_read_update_list_and_delete()
    {
        var created = await CreateAsync(Team("Pair"));
        Assert.Equal("Pair", created.Name);
        Assert.False(created.BuiltIn);
        Assert.Equal(["Writer", "Reviewer"], created.Agents.Select(a => a.Name));
        Assert.Equal(TimeSpan.FromMinutes(10), created.Termination.MaxDuration);
        Assert.Equal("Reviewer", created.Termination.KeywordAgent);

        var fetched = await app.Client.GetFromJsonAsync<TeamDefinition>($"/api/v1/teams/{created.Id}", Json.Options);
        Assert.Equal(created.Agents.Select(a => a.SystemPrompt), fetched!.Agents.Select(a => a.SystemPrompt));

        var put = await app.Client.PutAsJsonAsync($"/api/v1/teams/{created.Id}", new
        {
            name = "Pair, renamed",
            agents = new[] { Agent("Solo", color: "#ABCDEF") },
            selection = "ModelSelected",
            selectorPrompt = "Pick well.",
        });
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var updated = (await put.Content.ReadFromJsonAsync<TeamDefinition>(Json.Options))!;
        Assert.Equal(created.Id, updated.Id);
        Assert.Equal("#abcdef", Assert.Single(updated.Agents).Color);
        Assert.Equal(SpeakerSelection.ModelSelected, updated.Selection);

        var list = await ListAsync();
        Assert.Contains(list, t => t.Id == created.Id && t.Name == "Pair, renamed");

        Assert.Equal(HttpStatusCode.NoContent, (await app.Client.DeleteAsync($"/api/v1/teams/{created.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client.GetAsync($"/api/v1/teams/{created.Id}")).StatusCode);
        Assert.DoesNotContain(await ListAsync(), t => t.Id == created.Id);
    }

    [Fact]
    public async Task Built_in_templates_are_listed_first_and_are_read_only()
    {
        var list = await ListAsync();
        Assert.Equal(["Assistant", "Planner-Coder-Critic", "Researcher"], list.Take(3).Select(t => t.Name));
        Assert.All(list.Take(3), t => Assert.True(t.BuiltIn));

        var put = await app.Client.PutAsJsonAsync($"/api/v1/teams/{AssistantId}", Team("Mine now"));
        var delete = await app.Client.DeleteAsync($"/api/v1/teams/{AssistantId}");

        foreach (var response in new[] { put, delete })
        {
            Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
            Assert.Contains("Clone it", await response.Content.ReadAsStringAsync());
        }
        var assistant = await app.Client.GetFromJsonAsync<TeamDefinition>($"/api/v1/teams/{AssistantId}", Json.Options);
        Assert.Equal("Assistant", assistant!.Name);
    }

    [Fact]
    public async Task A_cloned_template_is_the_callers_own_editable_team()
    {
        var clone = await app.Client.PostAsJsonAsync($"/api/v1/teams/{PlannerCoderCriticId}/clone", new { });
        Assert.Equal(HttpStatusCode.Created, clone.StatusCode);
        var copy = (await clone.Content.ReadFromJsonAsync<TeamDefinition>(Json.Options))!;
        Assert.NotEqual(PlannerCoderCriticId, copy.Id);
        Assert.Equal("Planner-Coder-Critic (copy)", copy.Name);
        Assert.False(copy.BuiltIn);
        Assert.Equal(["Planner", "Coder", "Critic"], copy.Agents.Select(a => a.Name));
        Assert.Equal("Critic", copy.Termination.KeywordAgent);

        var edited = await app.Client.PutAsJsonAsync($"/api/v1/teams/{copy.Id}", new
        {
            name = "My PCC",
            agents = copy.Agents.Take(2),
            selection = "Handoff",
            termination = new { maxTurns = 30 },
        });
        Assert.Equal(HttpStatusCode.OK, edited.StatusCode);
        Assert.Equal(2, (await edited.Content.ReadFromJsonAsync<TeamDefinition>(Json.Options))!.Agents.Count);

        var named = await app.Client.PostAsJsonAsync($"/api/v1/teams/{copy.Id}/clone", new { name = "Second copy" });
        Assert.Equal("Second copy", (await named.Content.ReadFromJsonAsync<TeamDefinition>(Json.Options))!.Name);
        var template = await app.Client.GetFromJsonAsync<TeamDefinition>($"/api/v1/teams/{PlannerCoderCriticId}", Json.Options);
        Assert.Equal(3, template!.Agents.Count);
    }

    public static TheoryData<string, string> InvalidTeams() => new()
    {
        { """{"name":"","agents":[{"name":"A","systemPrompt":"p","tools":[],"color":"#000000"}]}""", "name" },
        { $$"""{"name":"{{new string('n', 81)}}","agents":[{"name":"A","systemPrompt":"p","tools":[],"color":"#000000"}]}""", "name" },
        { """{"name":"t","agents":[]}""", "agents" },
        { """{"name":"t","agents":[{"name":"1abc","systemPrompt":"p","tools":[],"color":"#000000"}]}""", "agents[0].name" },
        { """{"name":"t","agents":[{"name":"has space","systemPrompt":"p","tools":[],"color":"#000000"}]}""", "agents[0].name" },
        { """{"name":"t","agents":[{"name":"A","systemPrompt":"p","tools":[],"color":"#000000"},{"name":"a","systemPrompt":"p","tools":[],"color":"#000000"}]}""", "agents[1].name" },
        { """{"name":"t","agents":[{"name":"A","systemPrompt":"","tools":[],"color":"#000000"}]}""", "agents[0].systemPrompt" },
        { $$"""{"name":"t","agents":[{"name":"A","role":"{{new string('r', 201)}}","systemPrompt":"p","tools":[],"color":"#000000"}]}""", "agents[0].role" },
        { $$"""{"name":"t","agents":[{"name":"A","systemPrompt":"{{new string('p', 8001)}}","tools":[],"color":"#000000"}]}""", "agents[0].systemPrompt" },
        { """{"name":"t","agents":[{"name":"A","systemPrompt":"p","tools":["rm_rf"],"color":"#000000"}]}""", "agents[0].tools" },
        { """{"name":"t","agents":[{"name":"A","systemPrompt":"p","tools":[],"color":"red"}]}""", "agents[0].color" },
        { """{"name":"t","agents":[{"name":"A","systemPrompt":"p","tools":[],"color":"#000000","providerId":"0195f1a4-0000-7000-8000-000000000001"}]}""", "agents[0].providerId" },
        { """{"name":"t","selection":"Handoff","agents":[{"name":"A","systemPrompt":"p","tools":[],"color":"#000000"}]}""", "selection" },
        { """{"name":"t","agents":[{"name":"A","systemPrompt":"p","tools":[],"color":"#000000"}],"termination":{"keyword":"OK","keywordAgent":"B","maxTurns":5}}""", "termination.keywordAgent" },
        { """{"name":"t","agents":[{"name":"A","systemPrompt":"p","tools":[],"color":"#000000"}],"termination":{"maxTurns":0}}""", "termination.maxTurns" },
        { """{"name":"t","agents":[{"name":"A","systemPrompt":"p","tools":[],"color":"#000000"}],"termination":{"maxTurns":201}}""", "termination.maxTurns" },
        { """{"name":"t","agents":[{"name":"A","systemPrompt":"p","tools":[],"color":"#000000"}],"termination":{"maxTurns":5,"maxTokens":0}}""", "termination.maxTokens" },
        { """{"name":"t","agents":[{"name":"A","systemPrompt":"p","tools":[],"color":"#000000"}],"termination":{"maxTurns":5,"maxCost":-1}}""", "termination.maxCost" },
        { """{"name":"t","agents":[{"name":"A","systemPrompt":"p","tools":[],"color":"#000000"}],"termination":{"maxTurns":5,"maxDuration":"2.00:00:00"}}""", "termination.maxDuration" },
    };

    [Theory]
    [MemberData(nameof(InvalidTeams))]
    public async Task An_invalid_team_is_refused_naming_the_field_and_nothing_is_stored(string json, string field)
    {
        var before = (await ListAsync()).Count;

        var response = await app.Client.PostAsync("/api/v1/teams", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(problem.RootElement.GetProperty("errors").TryGetProperty(field, out _), $"no error for {field}: {problem.RootElement}");
        Assert.Equal(before, (await ListAsync()).Count);
    }

    [Fact]
    public async Task A_body_that_does_not_parse_is_a_bad_request_problem()
    {
        var response = await app.Client.PostAsync(
            "/api/v1/teams", new StringContent("""{"name":"t","selection":"Anarchy","agents":[]}""", System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Eleven_agents_are_too_many()
    {
        var response = await app.Client.PostAsJsonAsync("/api/v1/teams", Team("Crowd", Enumerable.Range(0, 11).Select(i => Agent($"A{i}")).ToArray()));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("at most 10 agents", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task An_unknown_team_is_not_found_on_every_endpoint()
    {
        var unknown = Guid.NewGuid();
        var responses = new[]
        {
            await app.Client.GetAsync($"/api/v1/teams/{unknown}"),
            await app.Client.PutAsJsonAsync($"/api/v1/teams/{unknown}", Team("x")),
            await app.Client.DeleteAsync($"/api/v1/teams/{unknown}"),
            await app.Client.PostAsJsonAsync($"/api/v1/teams/{unknown}/clone", new { }),
        };

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.NotFound, r.StatusCode));
    }

    [Fact]
    public async Task Picking_a_team_for_a_session_shows_in_the_session_and_is_in_its_log()
    {
        var team = await CreateAsync(Team("Session team"));
        var session = await app.CreateSessionAsync("with a team");

        var response = await app.Client.PutAsJsonAsync($"/api/v1/sessions/{session.Id}/team", new { teamId = team.Id });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var summary = await app.Client.GetFromJsonAsync<SessionSummary>($"/api/v1/sessions/{session.Id}", Json.Options);
        Assert.Equal(team.Id, summary!.TeamId);
        Assert.Equal("Session team", summary.TeamName);
        var changed = Assert.IsType<SessionTeamChanged>((await app.EventsAsync(session.Id))[^1].Data);
        Assert.Equal(team.Id, changed.TeamId);

        var builtIn = await app.Client.PutAsJsonAsync($"/api/v1/sessions/{session.Id}/team", new { teamId = AssistantId });
        Assert.Equal("Assistant", (await builtIn.Content.ReadFromJsonAsync<SessionSummary>(Json.Options))!.TeamName);
    }

    [Fact]
    public async Task Picking_an_unknown_team_or_for_an_unknown_session_is_not_found_and_appends_nothing()
    {
        var session = await app.CreateSessionAsync("no team");
        var unknownTeam = await app.Client.PutAsJsonAsync($"/api/v1/sessions/{session.Id}/team", new { teamId = Guid.NewGuid() });
        var unknownSession = await app.Client.PutAsJsonAsync($"/api/v1/sessions/{Guid.NewGuid()}/team", new { teamId = AssistantId });

        Assert.Equal(HttpStatusCode.NotFound, unknownTeam.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknownSession.StatusCode);
        Assert.Single(await app.EventsAsync(session.Id));
    }

    private async Task<TeamDefinition> CreateAsync(object team)
    {
        var response = await app.Client.PostAsJsonAsync("/api/v1/teams", team);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<TeamDefinition>(Json.Options))!;
    }

    private async Task<IReadOnlyList<TeamDefinition>> ListAsync() =>
        (await app.Client.GetFromJsonAsync<List<TeamDefinition>>("/api/v1/teams", Json.Options))!;
}
