using Conclave.Sessions.Contracts;
using Conclave.Testing.Host;
using Marten;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Conclave.Bench.Spine;

/// <summary>The whole Host on Kestrel (real sockets on loopback) with the <see cref="DeliveryProbe"/> in its delivery path.</summary>
internal sealed class SpineApp() : ConclaveApp(kestrel: true)
{
    private TokenSet? _ownerTokens;

    public DeliveryProbe Probe { get; } = new();

    protected override void ConfigureHost(IWebHostBuilder builder) =>
        builder.ConfigureTestServices(services =>
        {
            services.ConfigureMarten(options => options.Listeners.Add(Probe));
            services.AddHttpContextAccessor();
            var feed = services.Single(d => d.ServiceType == typeof(ISessionFeed));
            services.Remove(feed);
            services.AddSingleton<ISessionFeed>(sp => new TimedSessionFeed(
                (ISessionFeed)ActivatorUtilities.CreateInstance(sp, feed.ImplementationType!),
                Probe,
                sp.GetRequiredService<IHttpContextAccessor>()));
        });

    /// <summary>API clients signed in as the owner of the sessions this app creates, each on its own connections (a browser each).</summary>
    public async Task<IReadOnlyList<HttpClient>> OwnerClientsAsync(int count)
    {
        _ownerTokens ??= await SignInForTokensAsync(DefaultUserName);
        return Enumerable.Range(0, count).Select(_ => CreateBearerClient(_ownerTokens.AccessToken)).ToList();
    }
}
