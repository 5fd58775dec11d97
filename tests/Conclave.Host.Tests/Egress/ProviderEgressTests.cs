using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Conclave.Agents.Contracts;
using Conclave.Agents.Providers;
using Conclave.Egress;
using Conclave.Sessions.Contracts;
using Conclave.Testing;
using Conclave.Testing.Host;

namespace Conclave.Host.Tests.Egress;

/// <summary>
/// A user's provider cannot make the Host connect to loopback, private, link-local or metadata
/// addresses: refused when saved (400 naming the base URL) and again when connecting, on the resolved
/// address, with no redirect followed and failures that do not tell one port state from another.
/// </summary>
public sealed class ProviderEgressTests(EgressApp app) : IClassFixture<EgressApp>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);
    private static readonly CancellationToken None = CancellationToken.None;

    /// <summary>Base URLs that reach this machine or a private network, as a user would type them ({port}: the internal service).</summary>
    private static readonly string[] Denied =
    [
        "http://127.0.0.1:{port}/v1/",
        "http://localhost:{port}/v1/",
        "http://LOCALHOST.:{port}/v1/",
        "http://0x7f000001:{port}/v1/",
        "http://2130706433:{port}/v1/",
        "http://017700000001:{port}/v1/",
        "http://127.1:{port}/v1/",
        "http://①②⑦.0.0.1:{port}/v1/",
        "http://0:{port}/v1/",
        "http://[::1]:{port}/v1/",
        "http://[::ffff:127.0.0.1]:{port}/v1/",
        "http://[0:0:0:0:0:ffff:7f00:1]:{port}/v1/",
        "http://[::127.0.0.1]:{port}/v1/",
        "http://[64:ff9b::7f00:1]:{port}/v1/",
        "http://[2002:7f00:1::1]:{port}/v1/",
        "http://10.0.0.1/v1/",
        "http://172.16.5.4:8000/v1/",
        "http://192.168.1.10:11434/v1/",
        "http://169.254.169.254/latest/",
        "http://[::ffff:169.254.169.254]/latest/",
        "http://100.64.0.1/v1/",
        "http://[fd00::2]/v1/",
        "http://[fe80::1]/v1/",
        "http://224.0.0.1/v1/",
        "http://255.255.255.255/v1/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://printer.local/v1/",
        "http://my-vllm:8000/v1/",
    ];

    public static TheoryData<string> DeniedBaseUrls() => new(Denied);

    private static readonly string[] NamesThatResolveNowhereHere = ["LOCALHOST.", ".internal/", ".local/", "my-vllm"];

    [Theory]
    [MemberData(nameof(DeniedBaseUrls))]
    public async Task A_provider_at_a_local_or_private_address_is_refused_when_saved_naming_the_base_url(string baseUrl)
    {
        var before = (await app.Client.GetFromJsonAsync<List<ProviderSettings>>("/api/v1/providers", Json.Options))!.Count;

        var response = await app.Client.PostAsJsonAsync("/api/v1/providers", Custom("Sneaky", At(baseUrl)));

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{baseUrl}: {(int)response.StatusCode} {body}");
        using var problem = JsonDocument.Parse(body);
        var errors = problem.RootElement.GetProperty("errors").GetProperty("baseUrl");
        Assert.Contains("Conclave:Egress:AllowList", errors[0].GetString());
        Assert.Equal(before, (await app.Client.GetFromJsonAsync<List<ProviderSettings>>("/api/v1/providers", Json.Options))!.Count);
    }

    [Fact]
    public async Task Changing_a_saved_provider_to_a_loopback_address_is_refused_too()
    {
        var created = await CreateAsync(Custom("Public", "https://api.example.com/v1/"));

        var response = await app.Client.PutAsJsonAsync($"/api/v1/providers/{created.Id}", Custom("Public", At("http://127.0.0.1:{port}/v1/")));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(new Uri("https://api.example.com/v1/"), (await app.Service<IProviders>().FindAsync(created.OwnerId, created.Id, None))!.BaseUrl);
    }

    /// <summary>
    /// Every denied form, as the model-provider client connects, plus a name that resolves to loopback.
    /// Names that resolve nowhere here (*.internal, *.local, single labels, "localhost." with its dot)
    /// are left out: at connect time a name is judged by what it resolves to, and these are unreachable.
    /// </summary>
    public static TheoryData<string> DeniedAtConnect()
    {
        var urls = new TheoryData<string>();
        foreach (var url in Denied)
        {
            if (!NamesThatResolveNowhereHere.Any(url.Contains))
            {
                urls.Add(url);
            }
        }

        urls.Add($"http://{EgressApp.RebindingName}:{{port}}/v1/");
        return urls;
    }

    [Theory]
    [MemberData(nameof(DeniedAtConnect))]
    public async Task Every_denied_form_is_refused_at_connect_time_and_the_service_behind_it_sees_no_connection(string baseUrl)
    {
        // The client model calls use, as the Host builds it: whatever passed (or predates) the check at save time.
        var client = app.Service<IHttpClientFactory>().CreateClient(ChatModels.HttpClientName);
        var url = new Uri(new Uri(At(baseUrl)), "chat/completions");

        var failure = await Assert.ThrowsAsync<HttpRequestException>(() => client.PostAsync(url, new StringContent("{}")));

        Assert.IsType<EgressRefusedException>(failure.InnerException);
        Assert.Equal(0, await app.Internal.SettledConnectionsAsync(Deadline));
    }

    [Fact]
    public async Task A_name_that_resolves_to_loopback_passes_the_save_and_is_refused_when_the_run_connects()
    {
        var owner = "rebinder";
        var provider = await app.Service<IProviders>().CreateAsync(
            owner, new ProviderInput("Rebinding", ProviderPreset.Custom, new Uri(At($"http://{EgressApp.RebindingName}:{{port}}/v1/")), ["m"], "key-for-rebinding-1234", null, null), None);

        var end = await RunOnAsync(owner, provider.Id);

        var failed = Assert.IsType<RunFailed>(end.Data);
        Assert.Contains("refused by the egress policy", failed.Reason);
        Assert.Contains("resolves only to addresses the policy denies", failed.Reason);
        Assert.DoesNotContain("127.0.0.1", failed.Reason); // what an internal name resolves to is not told
        Assert.Equal(0, await app.Internal.SettledConnectionsAsync(Deadline));
    }

    [Fact]
    public async Task A_redirect_from_the_provider_is_not_followed_and_its_target_sees_no_connection()
    {
        // The target is allow-listed: only the rule that model calls follow no redirect keeps the text and key from it.
        app.Provider.Enqueue(Reply.Redirect(new Uri(app.RedirectTarget.BaseUrl, "chat/completions")));
        var session = await app.CreateSessionAsync();

        var posted = await app.PostMessageAsync(session.Id, "secret plans");
        var end = await app.WaitForRunEndAsync(session.Id, posted.RunId, Deadline);

        var failed = Assert.IsType<RunFailed>(end.Data);
        Assert.Contains("redirect (307)", failed.Reason);
        Assert.Equal(0, await app.RedirectTarget.SettledConnectionsAsync(Deadline));
    }

    [Fact]
    public async Task A_users_provider_on_an_allow_listed_loopback_port_works()
    {
        var owner = "ollama-user";
        var provider = await app.Service<IProviders>().CreateAsync(
            owner, new ProviderInput("My local model", ProviderPreset.Custom, app.AllowedProvider.BaseUrl, ["local-model"], "key-for-local-model-5678", null, null), None);
        app.AllowedProvider.Enqueue(Reply.Text("Hello from this machine."));

        var end = await RunOnAsync(owner, provider.Id);

        Assert.IsType<RunCompleted>(end.Data);
        var request = Assert.Single(app.AllowedProvider.Requests);
        Assert.Equal("Bearer key-for-local-model-5678", request.Authorization);
    }

    [Fact]
    public async Task The_installations_default_provider_is_trusted_on_loopback_without_an_allow_list_entry()
    {
        Assert.DoesNotContain(app.Service<EgressPolicy>().AllowList, r => r.Port == app.Provider.BaseUrl.Port);
        app.Provider.Enqueue(Reply.Text("The default answers."));
        var session = await app.CreateSessionAsync();

        var posted = await app.PostMessageAsync(session.Id, "hello");
        var end = await app.WaitForRunEndAsync(session.Id, posted.RunId, Deadline);

        Assert.IsType<RunCompleted>(end.Data);
        Assert.Contains((await app.EventsAsync(session.Id)).Select(e => e.Data).OfType<AgentMessageCompleted>(), m => m.Text == "The default answers.");
    }

    [Fact]
    public async Task A_closed_port_and_an_open_port_that_is_no_provider_fail_in_the_same_words()
    {
        var owner = "port-scanner";
        var providers = app.Service<IProviders>();
        var closed = await providers.CreateAsync(
            owner, new ProviderInput("Probe", ProviderPreset.Custom, new Uri($"http://127.0.0.1:{app.ClosedPort}/v1/"), ["m"], null, null, null), None);
        var open = await providers.CreateAsync(
            owner, new ProviderInput("Probe", ProviderPreset.Custom, app.NotAProvider.BaseUrl, ["m"], null, null, null), None);

        var closedEnd = Assert.IsType<RunFailed>((await RunOnAsync(owner, closed.Id)).Data);
        var openEnd = Assert.IsType<RunFailed>((await RunOnAsync(owner, open.Id)).Data);

        Assert.Contains("is unreachable", closedEnd.Reason);
        Assert.Equal(closedEnd.Reason, openEnd.Reason);
    }

    private async Task<SessionEvent> RunOnAsync(string owner, Guid providerId)
    {
        var team = await app.Service<ITeams>().CreateAsync(owner, new TeamDefinition
        {
            Name = "Solo " + Guid.NewGuid().ToString("N")[..6],
            Agents = [new AgentDefinition("Solo", "Answers", "You are Solo.", [], providerId)],
        }, None);
        var sessions = app.Service<ISessions>();
        var session = await sessions.CreateAsync(owner, "egress", None);
        await sessions.ChooseTeamAsync(owner, session.Id, team.Id, team.Name, None);
        var posted = await sessions.PostMessageAsync(owner, session.Id, "my secret text", None);
        return await app.WaitForRunEndAsync(session.Id, posted.RunId, Deadline);
    }

    private string At(string baseUrl) => baseUrl.Replace("{port}", app.Internal.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private static object Custom(string name, string baseUrl) => new { name, preset = "Custom", baseUrl, models = new[] { "m" } };

    private async Task<ProviderSettings> CreateAsync(object provider)
    {
        var response = await app.Client.PostAsJsonAsync("/api/v1/providers", provider);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<ProviderSettings>(Json.Options))!;
    }
}
