using System.Net;
using System.Net.Sockets;
using System.Text;
using Conclave.Egress;
using Microsoft.Extensions.Logging;

namespace Conclave.Host.Tests.Egress;

/// <summary>
/// The proxy a browser reaches the network through: what the policy allows goes through (a plain request
/// and a CONNECT tunnel to a site the proxy allow-lists), and nothing reaches the internal canary by any
/// spelling of loopback, a name resolving to it, a redirect, or the metadata address.
/// </summary>
public sealed class EgressProxyTests(EgressApp app) : IClassFixture<EgressApp>, IAsyncLifetime
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(10);
    private TinySite _site = null!;
    private EgressProxy _proxy = null!;
    private ProxyClient _client = null!;

    public async Task InitializeAsync()
    {
        _site = TinySite.Start(app.Internal.Port);
        Assert.True(EgressRule.TryParse($"127.0.0.1:{_site.Port}", out var rule, out var error), error);
        _proxy = new EgressProxy(app.Service<EgressPolicy>(), [rule], maxConnections: 64, app.Service<ILogger<EgressProxy>>());
        _proxy.Start();
        _client = _proxy.Register("session test");
        await Task.CompletedTask;
    }

    [Fact]
    public async Task An_allowed_site_answers_through_a_plain_request_and_through_a_tunnel()
    {
        var plain = await SendAsync($"GET http://127.0.0.1:{_site.Port}/hello HTTP/1.1\r\nHost: 127.0.0.1:{_site.Port}\r\n{Auth(_client)}\r\n");
        Assert.StartsWith("HTTP/1.1 200", plain, StringComparison.Ordinal);
        Assert.Contains("hello from the site", plain, StringComparison.Ordinal);
        Assert.DoesNotContain("Proxy-Authorization", _site.LastHead, StringComparison.OrdinalIgnoreCase);
        Assert.StartsWith("GET /hello HTTP/1.1", _site.LastHead, StringComparison.Ordinal);

        var tunnelled = await SendAsync(
            $"CONNECT 127.0.0.1:{_site.Port} HTTP/1.1\r\nHost: 127.0.0.1:{_site.Port}\r\n{Auth(_client)}\r\n",
            then: $"GET /hello HTTP/1.1\r\nHost: 127.0.0.1:{_site.Port}\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 200 Connection Established", tunnelled, StringComparison.Ordinal);
        Assert.Contains("hello from the site", tunnelled, StringComparison.Ordinal);
    }

    [Fact]
    public async Task No_spelling_of_loopback_a_name_resolving_to_it_or_the_metadata_address_reaches_the_canary()
    {
        var canary = app.Internal.Port;
        string[] heads =
        [
            $"GET http://127.0.0.1:{canary}/ HTTP/1.1\r\nHost: x\r\n",
            $"CONNECT 127.0.0.1:{canary} HTTP/1.1\r\nHost: x\r\n",
            $"CONNECT [::1]:{canary} HTTP/1.1\r\nHost: x\r\n",
            $"GET http://0x7f000001:{canary}/ HTTP/1.1\r\nHost: x\r\n",
            $"GET http://[::ffff:127.0.0.1]:{canary}/ HTTP/1.1\r\nHost: x\r\n",
            $"GET http://localhost:{canary}/ HTTP/1.1\r\nHost: x\r\n",
            $"CONNECT {EgressApp.RebindingName}:{canary} HTTP/1.1\r\nHost: x\r\n",
            "GET http://169.254.169.254/latest/meta-data/ HTTP/1.1\r\nHost: x\r\n",
        ];

        foreach (var head in heads)
        {
            var answer = await SendAsync(head + Auth(_client) + "\r\n");
            Assert.True(answer.StartsWith("HTTP/1.1 403", StringComparison.Ordinal), $"{head.Split('\r')[0]} was answered {answer.Split('\r')[0]}");
        }

        Assert.Equal(0, await app.Internal.SettledConnectionsAsync(Settle));
    }

    [Fact]
    public async Task A_redirect_to_loopback_is_a_new_request_the_policy_refuses()
    {
        using var http = new HttpClient(new SocketsHttpHandler
        {
            Proxy = new AlwaysProxy(_proxy.Address, new NetworkCredential(_client.UserName, _client.Password)),
            UseProxy = true,
            AllowAutoRedirect = true,
        });

        var followed = await http.GetAsync($"http://127.0.0.1:{_site.Port}/redirect");

        Assert.Equal(HttpStatusCode.Forbidden, followed.StatusCode);
        Assert.Equal(0, await app.Internal.SettledConnectionsAsync(Settle));
    }

    [Fact]
    public async Task Without_the_client_s_credentials_nothing_is_forwarded_and_other_schemes_and_huge_heads_are_refused()
    {
        var anonymous = await SendAsync($"GET http://127.0.0.1:{_site.Port}/hello HTTP/1.1\r\nHost: x\r\n\r\n");
        var wrong = await SendAsync($"GET http://127.0.0.1:{_site.Port}/hello HTTP/1.1\r\nHost: x\r\n{Auth(_client with { Password = "guess" })}\r\n");
        var revoked = _proxy.Register("revoked");
        _proxy.Revoke(revoked);
        var afterRevoke = await SendAsync($"GET http://127.0.0.1:{_site.Port}/hello HTTP/1.1\r\nHost: x\r\n{Auth(revoked)}\r\n");
        var file = await SendAsync($"GET file:///etc/passwd HTTP/1.1\r\nHost: x\r\n{Auth(_client)}\r\n");
        var huge = await SendAsync($"GET http://127.0.0.1:{_site.Port}/ HTTP/1.1\r\nX-Big: {new string('a', EgressProxy.MaxHeadBytes)}\r\n{Auth(_client)}\r\n");

        Assert.StartsWith("HTTP/1.1 407", anonymous, StringComparison.Ordinal);
        Assert.Contains("Proxy-Authenticate: Basic", anonymous, StringComparison.Ordinal);
        Assert.StartsWith("HTTP/1.1 407", wrong, StringComparison.Ordinal);
        Assert.StartsWith("HTTP/1.1 407", afterRevoke, StringComparison.Ordinal);
        Assert.StartsWith("HTTP/1.1 400", file, StringComparison.Ordinal);
        Assert.StartsWith("HTTP/1.1 431", huge, StringComparison.Ordinal);
        Assert.Equal(0, _site.Requests);
    }

    private static string Auth(ProxyClient client) =>
        $"Proxy-Authorization: Basic {Convert.ToBase64String(Encoding.UTF8.GetBytes($"{client.UserName}:{client.Password}"))}\r\n";

    /// <summary>Sends a raw request head to the proxy (then, once it answered, <paramref name="then"/>) and reads until it closes.</summary>
    private async Task<string> SendAsync(string head, string? then = null)
    {
        using var socket = new TcpClient();
        await socket.ConnectAsync(_proxy.Endpoint);
        var stream = socket.GetStream();
        await stream.WriteAsync(Encoding.Latin1.GetBytes(head));
        var received = new StringBuilder();
        var buffer = new byte[8192];
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        if (then is not null)
        {
            var read = await stream.ReadAsync(buffer, deadline.Token);
            received.Append(Encoding.Latin1.GetString(buffer, 0, read));
            await stream.WriteAsync(Encoding.Latin1.GetBytes(then), deadline.Token);
        }

        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, deadline.Token)) > 0)
            {
                received.Append(Encoding.Latin1.GetString(buffer, 0, read));
            }
        }
        catch (IOException)
        {
            // The proxy may reset after answering a request it would not read to the end.
        }

        return received.ToString();
    }

    public async Task DisposeAsync()
    {
        await _proxy.DisposeAsync();
        await _site.DisposeAsync();
    }

    /// <summary>The proxy for every request, loopback included (WebProxy bypasses loopback by itself).</summary>
    private sealed class AlwaysProxy(Uri proxy, ICredentials credentials) : IWebProxy
    {
        public ICredentials? Credentials { get; set; } = credentials;

        public Uri GetProxy(Uri destination) => proxy;

        public bool IsBypassed(Uri host) => false;
    }

    /// <summary>A web site on loopback: /hello answers, /redirect sends the client to the canary; one request per connection.</summary>
    private sealed class TinySite : IAsyncDisposable
    {
        private readonly TcpListener _listener;
        private readonly int _canary;
        private readonly Task _loop;
        private int _requests;

        private TinySite(int canary)
        {
            _canary = canary;
            _listener = new TcpListener(IPAddress.Loopback, 0);
            _listener.Start();
            _loop = ServeAsync();
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public int Requests => Volatile.Read(ref _requests);

        public string LastHead { get; private set; } = "";

        public static TinySite Start(int canary) => new(canary);

        private async Task ServeAsync()
        {
            while (true)
            {
                TcpClient client;
                try
                {
                    client = await _listener.AcceptTcpClientAsync();
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                    return;
                }

                using (client)
                {
                    var stream = client.GetStream();
                    var head = new StringBuilder();
                    var buffer = new byte[4096];
                    while (!head.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
                    {
                        var read = await stream.ReadAsync(buffer);
                        if (read == 0)
                        {
                            break;
                        }

                        head.Append(Encoding.Latin1.GetString(buffer, 0, read));
                    }

                    Interlocked.Increment(ref _requests);
                    LastHead = head.ToString();
                    var answer = LastHead.StartsWith("GET /redirect", StringComparison.Ordinal)
                        ? $"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:{_canary}/\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        : "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 19\r\nConnection: close\r\n\r\nhello from the site";
                    await stream.WriteAsync(Encoding.ASCII.GetBytes(answer));
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            await _loop;
        }
    }
}
