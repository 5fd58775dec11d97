using Conclave.Agents.Contracts;
using Conclave.Sandbox.Contracts;
using Conclave.Testing.Host;

namespace Conclave.Host.Tests.Teams;

/// <summary>Every team use case is scoped to its owner: another owner's team does not exist for you.</summary>
[Collection(SharedHost.Name)]
public sealed class TeamOwnershipTests(ConclaveApp app)
{
    private static readonly CancellationToken None = CancellationToken.None;

    private static TeamDefinition Team(string name) => new()
    {
        Name = name,
        Agents = [new AgentDefinition("Solo", "Does it all", "You are Solo.", [SandboxToolCatalog.ReadFile.Name])],
    };

    [Fact]
    public async Task Another_owners_team_is_invisible_and_untouchable()
    {
        var teams = app.Service<ITeams>();
        var alices = await teams.CreateAsync("alice", Team("Alice's team"), None);

        Assert.Null(await teams.FindAsync("bob", alices.Id, None));
        Assert.DoesNotContain(await teams.ListAsync("bob", None), t => t.Id == alices.Id);
        await Assert.ThrowsAsync<TeamNotFoundException>(() => teams.UpdateAsync("bob", alices.Id, Team("Bob's now"), None));
        await Assert.ThrowsAsync<TeamNotFoundException>(() => teams.CloneAsync("bob", alices.Id, null, None));
        await Assert.ThrowsAsync<TeamNotFoundException>(() => teams.DeleteAsync("bob", alices.Id, None));

        var untouched = await teams.FindAsync("alice", alices.Id, None);
        Assert.Equal("Alice's team", untouched!.Name);
        Assert.Equal("alice", untouched.OwnerId);
    }

    [Fact]
    public async Task Each_owner_lists_the_templates_then_only_their_own_teams_by_name()
    {
        var teams = app.Service<ITeams>();
        await teams.CreateAsync("carol", Team("Zeta"), None);
        await teams.CreateAsync("carol", Team("Alpha"), None);
        await teams.CreateAsync("dave", Team("Dave's"), None);

        var list = await teams.ListAsync("carol", None);

        Assert.Equal(["Assistant", "Planner-Coder-Critic", "Researcher", "Alpha", "Zeta"], list.Select(t => t.Name));
    }

    [Fact]
    public async Task A_team_cannot_use_another_owners_provider()
    {
        var erins = await app.Service<IProviders>().CreateAsync(
            "erin", new ProviderInput("Erin's", ProviderPreset.Groq, null, ["llama-3.1-8b-instant"], null, null, null), None);
        var team = Team("Borrower") with
        {
            Agents = [new AgentDefinition("Solo", "", "You are Solo.", [], erins.Id)],
        };

        var refused = await Assert.ThrowsAsync<TeamValidationException>(() => app.Service<ITeams>().CreateAsync("frank", team, None));

        Assert.Equal("agents[0].providerId", refused.Field);
        Assert.Equal(erins.Id, (await app.Service<ITeams>().CreateAsync("erin", team, None)).Agents[0].ProviderId);
    }
}
