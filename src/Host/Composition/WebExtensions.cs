using System.Text.Json.Serialization;
using Conclave.Host.Components;
using Conclave.Host.Composition.Observability;
using Conclave.Host.Markdown;
using Conclave.Identity;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;

namespace Conclave.Host.Composition;

internal static class WebExtensions
{
    public static WebApplicationBuilder AddWeb(this WebApplicationBuilder builder)
    {
        var development = builder.Environment.IsDevelopment() || builder.Environment.IsEnvironment("Testing");
        // Conclave:Identity:AllowHttp: sign-in over plain http://localhost (the image tried out without TLS in front).
        var plainHttp = development || builder.Configuration.GetValue<bool>("Conclave:Identity:AllowHttp");
        builder.Services.AddAntiforgery(options =>
        {
            options.Cookie.SecurePolicy = plainHttp ? CookieSecurePolicy.SameAsRequest : CookieSecurePolicy.Always;
            // SecurityHeaders sends X-Frame-Options: DENY (antiforgery's SAMEORIGIN would be weaker).
            options.SuppressXFrameOptionsHeader = true;
        });
        // Provider keys travel in Authorization headers: no HttpClient log line may show any header value.
        builder.Services.ConfigureHttpClientDefaults(client => client.RedactLoggedHeaders(_ => true));
        builder.Services.AddCascadingAuthenticationState();
        builder.Services.AddProblemDetails();
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new JsonStringEnumConverter()));
        builder.Services.AddOpenApi();
        builder.Services.AddHealthChecks().AddCheck<PostgresHealthCheck>("postgresql", tags: ["ready"]);
        builder.Services.AddRazorComponents().AddInteractiveServerComponents();
        builder.Services.AddSingleton<MarkdownRenderer>();
        builder.AddObservability();
        return builder;
    }

    public static WebApplication MapWeb(this WebApplication app)
    {
        app.MapObservability();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.Use(SecurityHeaders.AddAsync);
        if (!app.Environment.IsDevelopment())
        {
            app.UseHsts();
        }

        app.UseIdentityModule();
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
        app.MapIdentityModule();
        // Our CSP (SecurityHeaders) sets frame-ancestors 'none' itself.
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode(o => o.ContentSecurityFrameAncestorsPolicy = null);
        return app;
    }
}
