using Conclave.Agents.Contracts;
using Conclave.Sessions.Contracts;
using Conclave.Testing;
using Conclave.Testing.Host;

namespace Conclave.Host.Tests.Agents;

/// <summary>Who speaks next: the model picks from the roster, or an agent hands over with transfer_to_&lt;agent&gt;.</summary>
public sealed class SpeakerSelectionTests(ConclaveApp app) : IClassFixture<ConclaveApp>
{
    private const string Owner = "speakers";
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private static readonly AgentDefinition Writer = new("Writer", "Writes drafts", "You are Writer.", []);
    private static readonly AgentDefinition Editor = new("Editor", "Polishes drafts and says DONE", "You are Editor.", []);

    [Fact]
    public async Task A_model_selected_team_asks_the_selector_who_speaks_and_records_its_choice_and_usage()
    {
        var team = await app.Service<ITeams>().CreateAsync(Owner, new TeamDefinition
        {
            Name = "Selected",
            Agents = [Writer, Editor],
            Selection = SpeakerSelection.ModelSelected,
            SelectorPrompt = "Pick the Editor once a draft exists.",
            Termination = new TerminationRules { Keyword = "DONE", MaxTurns = 5 },
        }, None);
        var session = await StartAsync(team);
        var first = app.Provider.Requests.Count;
        app.Provider.Enqueue(
            Reply.Text("A first draft."),         // Writer opens (the first speaker is the first member)
            Reply.Text("Editor").WithUsage(40, 1), // the selector's answer
            Reply.Text("Polished. DONE"));

        var posted = await app.Service<ISessions>().PostMessageAsync(Owner, session, "Write a line", None);
        var end = await app.WaitForRunEndAsync(session, posted.RunId, Deadline);

        Assert.Equal("Editor said DONE.", Assert.IsType<RunCompleted>(end.Data).Reason);
        var events = (await app.EventsAsync(session)).Select(e => e.Data).ToList();
        var selected = Assert.Single(events.OfType<SpeakerSelected>());
        Assert.Equal("Editor", selected.Agent);
        Assert.Equal(new Conclave.Sessions.Contracts.TokenUsage(40, 1), selected.Usage);
        Assert.Equal(["Writer", "Editor"], events.OfType<AgentMessageCompleted>().Select(m => m.Agent));
        var selector = app.Provider.Requests[first + 1];
        Assert.Contains("Pick the Editor once a draft exists.", selector.Messages[0].Content);
        Assert.Contains("- Writer: Writes drafts", selector.Messages[0].Content);
        Assert.Empty(selector.ToolNames);
    }

    [Fact]
    public async Task In_a_handoff_team_an_agent_hands_over_with_a_transfer_tool_and_an_answer_without_one_ends_the_run()
    {
        var team = await app.Service<ITeams>().CreateAsync(Owner, new TeamDefinition
        {
            Name = "Handoff",
            Agents = [Writer, Editor],
            Selection = SpeakerSelection.Handoff,
        }, None);
        var session = await StartAsync(team);
        var first = app.Provider.Requests.Count;
        app.Provider.Enqueue(
            Reply.ToolCall("transfer_to_Editor", "{}"),
            Reply.Text("Here is the polished line."));

        var posted = await app.Service<ISessions>().PostMessageAsync(Owner, session, "Polish: helo wrld", None);
        var end = await app.WaitForRunEndAsync(session, posted.RunId, Deadline);

        Assert.IsType<RunCompleted>(end.Data);
        var events = (await app.EventsAsync(session)).Select(e => e.Data).ToList();
        var transfer = Assert.Single(events.OfType<ToolCallCompleted>());
        Assert.Equal("Transferred to Editor.", transfer.Output);
        Assert.Equal(["Writer", "Editor"], events.OfType<AgentMessageCompleted>().Select(m => m.Agent));
        Assert.Equal(["transfer_to_Editor"], app.Provider.Requests[first].ToolNames);
        Assert.Equal(["transfer_to_Writer"], app.Provider.Requests[first + 1].ToolNames);
    }

    private async Task<Guid> StartAsync(TeamDefinition team)
    {
        var session = await app.Service<ISessions>().CreateAsync(Owner, team.Name, None);
        await app.Service<ISessions>().ChooseTeamAsync(Owner, session.Id, team.Id, team.Name, None);
        return session.Id;
    }
}
