using System.Net;
using System.Net.Sockets;
using Conclave.Agents.Providers;
using Conclave.Agents.Runs;

namespace Conclave.Agents.Tests.Runs;

public sealed class ProviderFailureTests
{
    private static ResolvedProvider Provider(Guid? id, Uri baseUrl) =>
        new(id, id is null ? "default" : "mine", baseUrl, "m", null, null, null, 0, TimeSpan.FromSeconds(5));

    /// <summary>A real connection attempt to a loopback port nobody listens on.</summary>
    private static async Task<Exception> RefusedAsync(Uri baseUrl)
    {
        using var http = new HttpClient();
        return await Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync(new Uri(baseUrl, "models")));
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [Fact]
    public async Task The_installations_provider_that_refuses_gets_the_address_the_reason_and_what_to_do()
    {
        var baseUrl = new Uri($"http://127.0.0.1:{ClosedPort()}/v1/");

        var message = ProviderFailure.Describe(await RefusedAsync(baseUrl), Provider(null, baseUrl));

        Assert.Equal($"Could not connect to {baseUrl} (connection refused): is the provider running, and is the base URL right? " +
            "Add a provider on the Providers page, or set Conclave:Models:Default.", message);
    }

    [Fact]
    public void An_ollama_address_asks_whether_ollama_runs()
    {
        var baseUrl = new Uri("http://localhost:11434/v1/");
        var refused = new HttpRequestException("refused", new SocketException((int)SocketError.ConnectionRefused));

        Assert.StartsWith("Could not connect to http://localhost:11434/v1/ (connection refused): is Ollama running?",
            ProviderFailure.Describe(refused, Provider(null, baseUrl)));
    }

    [Fact]
    public async Task A_users_provider_does_not_learn_why_so_ports_cannot_be_told_apart()
    {
        var baseUrl = new Uri($"http://127.0.0.1:{ClosedPort()}/v1/");

        var message = ProviderFailure.Describe(await RefusedAsync(baseUrl), Provider(Guid.NewGuid(), baseUrl));

        Assert.Equal("The model provider 'mine' at 127.0.0.1 is unreachable. Check the base URL and that the provider is running, then try again.", message);
    }

    [Fact]
    public void An_unexpected_failure_never_shows_an_exception_type()
    {
        var message = ProviderFailure.Describe(new InvalidCastException("boom"), Provider(null, new Uri("http://x/v1/")));

        Assert.DoesNotContain(nameof(InvalidCastException), message);
        Assert.Contains("failed unexpectedly", message);
    }
}
