using Conclave.Agents.Contracts;
using Conclave.Egress;
using Conclave.Web.Browsing;
using Conclave.Web.Contracts;
using Conclave.Web.Search;
using Conclave.Web.Tools;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Conclave.Web;

/// <summary>
/// The Web module: a sandboxed Chromium per node with a browser context per session, and web search, as
/// agent tools (an <see cref="IToolSource"/> of the Agents module). Every byte goes through the egress policy.
/// </summary>
public static class WebModule
{
    public static IServiceCollection AddWebModule(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddEgressPolicy(configuration);
        services.AddOptions<BrowserOptions>()
            .Bind(configuration.GetSection(BrowserOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<BrowserOptions>, BrowserOptionsValidator>();
        services.AddOptions<WebSearchOptions>()
            .Bind(configuration.GetSection(WebSearchOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<WebSearchOptions>, WebSearchOptionsValidator>();
        services.AddHttpClient(WebSearch.HttpClientName, c => c.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(sp =>
            {
                var trusted = WebSearch.Trusted(sp.GetRequiredService<IOptions<WebSearchOptions>>().Value);
                return sp.GetRequiredService<EgressPolicy>().CreateHandler(() => trusted);
            });
        services.AddSingleton<WebSearch>();
        services.AddSingleton<SessionBrowsers>();
        services.AddHostedService<BrowserJanitor>();
        services.AddSingleton<IToolSource, WebTools>();
        services.AddSingleton<IWebStatus, WebStatusReader>();
        return services;
    }
}

/// <summary>Closes the browser contexts of idle sessions; and the browser with the Host.</summary>
internal sealed class BrowserJanitor(SessionBrowsers browsers, TimeProvider clock) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var every = TimeSpan.FromTicks(Math.Clamp(browsers.Options.IdleTimeout.Ticks / 2, TimeSpan.TicksPerSecond, TimeSpan.TicksPerSecond * 30));
        using var timer = new PeriodicTimer(every, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await browsers.CloseIdleAsync();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await browsers.DisposeAsync();
    }
}

internal sealed class WebStatusReader(SessionBrowsers browsers, WebSearch search) : IWebStatus
{
    public WebStatus Current => new(search.Describe(), browsers.Contexts, browsers.Options.MaxContexts, browsers.SandboxUser, browsers.ProxyAddress, [.. browsers.AllowList.Select(r => r.ToString())], [.. browsers.DenyList.Select(r => r.ToString())]);
}
