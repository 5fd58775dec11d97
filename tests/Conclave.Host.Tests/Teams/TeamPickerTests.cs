using Bunit;
using Conclave.Agents.Contracts;
using Conclave.Host.Components.Teams;
using Conclave.Sessions.Contracts;
using Conclave.Testing.Host;
using Microsoft.Extensions.DependencyInjection;

namespace Conclave.Host.Tests.Teams;

/// <summary>The session page's team picker, rendered with the Host's real team and session services.</summary>
[Collection(SharedHost.Name)]
public sealed class TeamPickerTests(ConclaveApp app)
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task Picking_a_team_sets_the_sessions_team_and_offers_only_the_owners_teams()
    {
        var teams = app.Service<ITeams>();
        var mine = await teams.CreateAsync("picker", new TeamDefinition
        {
            Name = "Picked",
            Agents = [new AgentDefinition("Solo", "", "You are Solo.", [])],
        }, None);
        var theirs = await teams.CreateAsync("someone-else", new TeamDefinition
        {
            Name = "Not yours",
            Agents = [new AgentDefinition("Solo", "", "You are Solo.", [])],
        }, None);
        var session = await app.Service<ISessions>().CreateAsync("picker", "pick a team", None);
        await using var context = new BunitContext();
        context.Services.AddSingleton(teams);
        context.Services.AddSingleton(app.Service<ISessions>());
        SessionSummary? changed = null;

        var picker = context.Render<TeamPicker>(p => p
            .Add(x => x.SessionId, session.Id)
            .Add(x => x.OwnerId, "picker")
            .Add(x => x.TeamId, session.TeamId)
            .Add(x => x.Changed, s => changed = s));

        // The teams load asynchronously: wait until the list and the selection are rendered.
        picker.WaitForAssertion(
            () =>
            {
                var options = picker.FindAll("option");
                Assert.NotEmpty(options);
                Assert.Equal(options[0].GetAttribute("value"), picker.Find("[data-testid=team-picker]").GetAttribute("value"));
            },
            TimeSpan.FromSeconds(10));
        var select = picker.Find("[data-testid=team-picker]");
        var offered = picker.FindAll("option").Select(o => o.GetAttribute("value")).ToList();
        Assert.Contains(mine.Id.ToString(), offered);
        Assert.DoesNotContain(theirs.Id.ToString(), offered);
        Assert.NotNull(offered[0]); // no team yet: the default, the Assistant, is listed first and selected

        await select.ChangeAsync(new Microsoft.AspNetCore.Components.ChangeEventArgs { Value = mine.Id.ToString() });

        picker.WaitForAssertion(() => Assert.Equal(mine.Id, changed?.TeamId), TimeSpan.FromSeconds(10));
        var stored = await app.Service<ISessions>().FindAsync("picker", session.Id, None);
        Assert.Equal("Picked", stored!.TeamName);
        Assert.IsType<SessionTeamChanged>((await app.EventsAsync(session.Id))[^1].Data);
    }
}
