using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Conclave.Agents.Contracts;
using Conclave.Agents.Providers;
using Conclave.Testing.Host;
using Marten;
using Npgsql;

namespace Conclave.Host.Tests.Providers;

/// <summary>Providers over HTTP: the key goes in, is stored encrypted, and only its hint ever comes back.</summary>
[Collection(SharedHost.Name)]
public sealed class ProviderApiTests(ConclaveApp app)
{
    private const string Key = "fake-test-key-do-not-leak-9876wxyz";
    private static readonly CancellationToken None = CancellationToken.None;

    private static object Provider(string name, string? apiKey = Key, string preset = "OpenAI", string? baseUrl = null) => new
    {
        name,
        preset,
        baseUrl,
        models = new[] { "gpt-4o-mini", "gpt-4o" },
        apiKey,
        inputPricePerMillion = 0.15m,
        outputPricePerMillion = 0.6m,
    };

    [Fact]
    public async Task A_key_is_never_sent_back_only_its_hint()
    {
        var response = await app.Client.PostAsJsonAsync("/api/v1/providers", Provider("OpenAI work"));
        var createdBody = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = JsonSerializer.Deserialize<ProviderSettings>(createdBody, Json.Options)!;

        Assert.Equal("…wxyz", created.KeyHint);
        Assert.Equal(new Uri("https://api.openai.com/v1/"), created.BaseUrl);
        Assert.Equal(["gpt-4o-mini", "gpt-4o"], created.Models);
        Assert.Equal(0.15m, created.InputPricePerMillion);
        var bodies = new[]
        {
            createdBody,
            await app.Client.GetStringAsync($"/api/v1/providers/{created.Id}"),
            await app.Client.GetStringAsync("/api/v1/providers"),
            await (await app.Client.PutAsJsonAsync($"/api/v1/providers/{created.Id}", Provider("Renamed", apiKey: null))).Content.ReadAsStringAsync(),
        };
        Assert.All(bodies, body =>
        {
            Assert.DoesNotContain(Key, body);
            Assert.DoesNotContain("SECRET", body);
            Assert.Contains("…wxyz", body);
        });
    }

    [Fact]
    public async Task The_stored_row_holds_no_plain_key_and_the_resolver_decrypts_it()
    {
        var created = await CreateAsync(Provider("At rest"));

        await using (var connection = new NpgsqlConnection(app.ConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("select data::text from agents.mt_doc_provider where id = @id", connection);
            command.Parameters.AddWithValue("id", created.Id);
            var row = (string?)await command.ExecuteScalarAsync();
            Assert.NotNull(row);
            Assert.Contains("At rest", row);
            Assert.DoesNotContain(Key, row);
            Assert.DoesNotContain("SECRET", row);
        }

        var resolved = await app.Service<ProviderResolver>().ResolveAsync(created.OwnerId, created.Id, null, None);
        Assert.Equal(Key, resolved.ApiKey);
        Assert.Equal("gpt-4o-mini", resolved.Model);
        Assert.Equal(created.Id, resolved.Id);
        Assert.Equal(new Uri("https://api.openai.com/v1/"), resolved.BaseUrl);
        Assert.Equal(0.15m, resolved.InputPricePerMillion);
        Assert.DoesNotContain(Key, resolved.ToString());
        Assert.Equal("gpt-4o", (await app.Service<ProviderResolver>().ResolveAsync(created.OwnerId, created.Id, "gpt-4o", None)).Model);
    }

    [Fact]
    public async Task A_key_that_can_no_longer_be_decrypted_asks_the_user_to_enter_it_again()
    {
        var created = await CreateAsync(Provider("Lost key ring"));
        await using (var session = app.Service<IDocumentStore>().LightweightSession())
        {
            var stored = (await session.LoadAsync<StoredProvider>(created.Id))!;
            stored.ProtectedKey = "CfDJ8-not-a-ciphertext-of-this-key-ring";
            session.Store(stored);
            await session.SaveChangesAsync();
        }

        var refused = await Assert.ThrowsAsync<ProviderValidationException>(
            () => app.Service<ProviderResolver>().ResolveAsync(created.OwnerId, created.Id, null, None));

        Assert.Equal("apiKey", refused.Field);
        Assert.Contains("Enter the key again", refused.Message);
    }

    [Fact]
    public async Task The_default_provider_still_resolves_without_a_provider_id()
    {
        var resolved = await app.Service<ProviderResolver>().ResolveAsync("anyone", null, null, None);

        Assert.Null(resolved.Id);
        Assert.Equal("scripted-model", resolved.Model);
        Assert.Equal(ConclaveApp.ProviderKey, resolved.ApiKey);
    }

    [Fact]
    public async Task Updating_without_a_key_keeps_it_and_an_empty_key_removes_it()
    {
        var created = await CreateAsync(Provider("Keys"));
        var resolver = app.Service<ProviderResolver>();

        var kept = await UpdateAsync(created.Id, Provider("Keys", apiKey: null));
        Assert.Equal("…wxyz", kept.KeyHint);
        Assert.Equal(Key, (await resolver.ResolveAsync(created.OwnerId, created.Id, null, None)).ApiKey);

        var replaced = await UpdateAsync(created.Id, Provider("Keys", apiKey: "fake-another-test-key-0000abcd"));
        Assert.Equal("…abcd", replaced.KeyHint);
        Assert.Equal("fake-another-test-key-0000abcd", (await resolver.ResolveAsync(created.OwnerId, created.Id, null, None)).ApiKey);

        var removed = await UpdateAsync(created.Id, Provider("Keys", apiKey: ""));
        Assert.Null(removed.KeyHint);
        Assert.Null((await resolver.ResolveAsync(created.OwnerId, created.Id, null, None)).ApiKey);
    }

    [Fact]
    public async Task A_provider_a_team_uses_cannot_be_deleted_and_the_conflict_names_the_team()
    {
        var provider = await CreateAsync(Provider("In use"));
        var team = await app.Client.PostAsJsonAsync("/api/v1/teams", new
        {
            name = "Uses it",
            agents = new[] { new { name = "Solo", systemPrompt = "You are Solo.", tools = Array.Empty<string>(), providerId = provider.Id, model = "gpt-4o", color = "#123456" } },
        });
        Assert.Equal(HttpStatusCode.Created, team.StatusCode);

        var refused = await app.Client.DeleteAsync($"/api/v1/providers/{provider.Id}");

        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains("Uses it", await refused.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, (await app.Client.GetAsync($"/api/v1/providers/{provider.Id}")).StatusCode);

        var teamId = (await team.Content.ReadFromJsonAsync<TeamDefinition>(Json.Options))!.Id;
        Assert.Equal(HttpStatusCode.NoContent, (await app.Client.DeleteAsync($"/api/v1/teams/{teamId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await app.Client.DeleteAsync($"/api/v1/providers/{provider.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client.GetAsync($"/api/v1/providers/{provider.Id}")).StatusCode);
    }

    [Fact]
    public async Task Another_owners_provider_is_not_found_and_not_resolvable()
    {
        var providers = app.Service<IProviders>();
        var alices = await providers.CreateAsync("alice", new ProviderInput("Alice's", ProviderPreset.Groq, null, ["llama-3.1-8b-instant"], Key, null, null), None);

        Assert.Null(await providers.FindAsync("bob", alices.Id, None));
        Assert.Empty(await providers.ListAsync("bob", None));
        await Assert.ThrowsAsync<ProviderNotFoundException>(() => providers.UpdateAsync("bob", alices.Id, new ProviderInput("Bob's", ProviderPreset.Groq, null, ["x"], null, null, null), None));
        await Assert.ThrowsAsync<ProviderNotFoundException>(() => providers.DeleteAsync("bob", alices.Id, None));
        await Assert.ThrowsAsync<ProviderNotFoundException>(() => app.Service<ProviderResolver>().ResolveAsync("bob", alices.Id, null, None));
        // Over HTTP the caller is the test user, not Alice: her provider does not exist for them.
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client.GetAsync($"/api/v1/providers/{alices.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client.DeleteAsync($"/api/v1/providers/{alices.Id}")).StatusCode);
        Assert.Equal("Alice's", (await providers.FindAsync("alice", alices.Id, None))!.Name);
    }

    [Fact]
    public async Task Presets_give_the_default_base_urls_and_suggested_models()
    {
        var presets = (await app.Client.GetFromJsonAsync<List<ProviderPresetInfo>>("/api/v1/providers/presets", Json.Options))!;

        Assert.Equal(new Uri("https://openrouter.ai/api/v1/"), presets.Single(p => p.Preset == ProviderPreset.OpenRouter).BaseUrl);
        Assert.Equal(new Uri("https://api.groq.com/openai/v1/"), presets.Single(p => p.Preset == ProviderPreset.Groq).BaseUrl);
        Assert.Equal(new Uri("http://localhost:11434/v1/"), presets.Single(p => p.Preset == ProviderPreset.Ollama).BaseUrl);
        Assert.Null(presets.Single(p => p.Preset == ProviderPreset.Custom).BaseUrl);
        Assert.NotEmpty(presets.Single(p => p.Preset == ProviderPreset.OpenAI).SuggestedModels);
    }

    public static TheoryData<string, string> InvalidProviders() => new()
    {
        { """{"name":"c","preset":"Custom","models":["m"]}""", "baseUrl" },
        { """{"name":"c","preset":"Custom","baseUrl":"ftp://example.com/v1/","models":["m"]}""", "baseUrl" },
        { """{"name":"c","preset":"Custom","baseUrl":"not a url","models":["m"]}""", "baseUrl" },
        { """{"name":"c","preset":"Custom","baseUrl":"https://user:pw@example.com/v1/","models":["m"]}""", "baseUrl" },
        { """{"name":"o","preset":"OpenAI","models":[]}""", "models" },
        { $$"""{"name":"o","preset":"OpenAI","models":[{{string.Join(",", Enumerable.Range(0, 51).Select(i => $"\"m{i}\""))}}]}""", "models" },
        { """{"name":"o","preset":"OpenAI","models":["has space"]}""", "models" },
        { $$"""{"name":"{{new string('n', 81)}}","preset":"OpenAI","models":["m"]}""", "name" },
        { """{"name":"o","preset":"OpenAI","models":["m"],"inputPricePerMillion":-1}""", "inputPricePerMillion" },
        { """{"name":"o","preset":"OpenAI","models":["m"],"outputPricePerMillion":1000000}""", "outputPricePerMillion" },
        { $$"""{"name":"o","preset":"OpenAI","models":["m"],"apiKey":"{{new string('k', 513)}}"}""", "apiKey" },
        { """{"name":"o","preset":"OpenAI","models":["m"],"apiKey":"two words"}""", "apiKey" },
    };

    [Theory]
    [MemberData(nameof(InvalidProviders))]
    public async Task An_invalid_provider_is_refused_naming_the_field_and_nothing_is_stored(string json, string field)
    {
        var before = (await app.Client.GetFromJsonAsync<List<ProviderSettings>>("/api/v1/providers", Json.Options))!.Count;

        var response = await app.Client.PostAsync("/api/v1/providers", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        using var problem = JsonDocument.Parse(body);
        Assert.True(problem.RootElement.GetProperty("errors").TryGetProperty(field, out _), $"no error for {field}: {body}");
        Assert.DoesNotContain(new string('k', 513), body);
        Assert.Equal(before, (await app.Client.GetFromJsonAsync<List<ProviderSettings>>("/api/v1/providers", Json.Options))!.Count);
    }

    private async Task<ProviderSettings> CreateAsync(object provider)
    {
        var response = await app.Client.PostAsJsonAsync("/api/v1/providers", provider);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<ProviderSettings>(Json.Options))!;
    }

    private async Task<ProviderSettings> UpdateAsync(Guid id, object provider)
    {
        var response = await app.Client.PutAsJsonAsync($"/api/v1/providers/{id}", provider);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<ProviderSettings>(Json.Options))!;
    }
}
