using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Bunit;
using Conclave.Agents.Contracts;
using Conclave.Host.Components.Session;
using Conclave.Sessions.Contracts;
using Conclave.Testing.Host;
using Microsoft.Extensions.DependencyInjection;

namespace Conclave.Host.Tests.Agents;

/// <summary>A new installation whose default provider (a local Ollama that is not running) cannot be reached.</summary>
public sealed class NoModelApp : ConclaveApp
{
    public NoModelApp()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        ClosedPort = ((IPEndPoint)listener.LocalEndpoint).Port;
        ExtraSettings["Conclave:Models:Default:BaseUrl"] = $"http://127.0.0.1:{ClosedPort}/v1/";
        ExtraSettings["Conclave:Egress:AllowList:1"] = $"127.0.0.1:{ClosedPort}";
    }

    public int ClosedPort { get; }
}

public sealed class UnreachableModelTests(NoModelApp app) : IClassFixture<NoModelApp>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Readiness_says_the_default_provider_is_unreachable_and_why()
    {
        using var report = JsonDocument.Parse(await app.Client.GetStringAsync("/health/ready"));

        var models = report.RootElement.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "models");
        Assert.Equal("Degraded", models.GetProperty("status").GetString());
        Assert.Contains($"Could not connect to http://127.0.0.1:{app.ClosedPort}/v1/ (connection refused)", models.GetProperty("description").GetString());
    }

    [Fact]
    public async Task The_session_page_says_so_before_the_user_types_and_links_to_the_providers()
    {
        await using var context = new BunitContext();
        context.Services.AddSingleton(app.Service<IModelReachability>());

        var notice = context.Render<ModelNotice>(p => p.Add(x => x.OwnerId, ConclaveApp.DefaultUserId));

        notice.WaitForAssertion(() => Assert.Contains("No model is reachable", notice.Find("[data-testid=model-notice]").TextContent), Deadline);
        Assert.Contains("connection refused", notice.Markup);
        Assert.Equal("/providers", notice.Find("[data-testid=model-notice] a").GetAttribute("href"));
    }

    [Fact]
    public async Task A_team_on_the_users_own_provider_gets_no_notice()
    {
        var owner = "own-provider-owner";
        var provider = await app.Service<IProviders>().CreateAsync(
            owner, new ProviderInput("Mine", ProviderPreset.Custom, app.Provider.BaseUrl, ["scripted-model"], null, null, null), CancellationToken.None);
        var team = await app.Service<ITeams>().CreateAsync(owner, new TeamDefinition
        {
            Name = "Own",
            Agents = [new AgentDefinition("Solo", "assistant", "Answer.", [], ProviderId: provider.Id)],
        }, CancellationToken.None);

        Assert.Null(await app.Service<IModelReachability>().ForTeamAsync(owner, team.Id, CancellationToken.None));
        Assert.False((await app.Service<IModelReachability>().ForTeamAsync(owner, null, CancellationToken.None))!.Reachable);
    }

    [Fact]
    public async Task A_run_on_it_fails_with_the_address_the_reason_and_what_to_do()
    {
        var session = await app.CreateSessionAsync();

        var posted = await app.PostMessageAsync(session.Id, "hello?");
        var end = Assert.IsType<RunFailed>((await app.WaitForRunEndAsync(session.Id, posted.RunId, Deadline)).Data);

        Assert.StartsWith($"Could not connect to http://127.0.0.1:{app.ClosedPort}/v1/ (connection refused): is the provider running", end.Reason);
        Assert.Contains("Add a provider on the Providers page", end.Reason);
    }
}
