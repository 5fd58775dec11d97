using System.Text.Json.Serialization;
using Conclave.Host.Components;
using Conclave.Host.Identity;
using Conclave.Host.Markdown;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;

namespace Conclave.Host.Composition;

internal static class WebExtensions
{
    public static WebApplicationBuilder AddWeb(this WebApplicationBuilder builder)
    {
        builder.AddIdentityAndTrust();
        builder.Services.AddCascadingAuthenticationState();
        builder.Services.AddProblemDetails();
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new JsonStringEnumConverter()));
        builder.Services.AddOpenApi();
        builder.Services.AddHealthChecks().AddCheck<PostgresHealthCheck>("postgresql", tags: ["ready"]);
        builder.Services.AddRazorComponents().AddInteractiveServerComponents();
        builder.Services.AddSingleton<MarkdownRenderer>();
        return builder;
    }

    public static WebApplication MapWeb(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseIdentityAndTrust();
        app.UseAntiforgery();

        app.MapOpenApi().AllowAnonymous();
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false }).AllowAnonymous();
        app.MapHealthChecks("/health/ready", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains("ready"),
            ResponseWriter = HealthReportWriter.WriteAsync,
        }).AllowAnonymous();
        app.MapStaticAssets().AllowAnonymous();
        var highlightCss = new ColorCode.HtmlClassFormatter().GetCSSString();
        app.MapGet("/highlight.css", () => Results.Text(highlightCss, "text/css")).ExcludeFromDescription().AllowAnonymous();
        app.MapIdentityAndTrust();
        // Our CSP (SecurityHeaders) sets frame-ancestors 'none' itself.
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode(o => o.ContentSecurityFrameAncestorsPolicy = null);
        return app;
    }
}
