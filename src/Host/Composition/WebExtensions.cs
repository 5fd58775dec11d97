using System.Globalization;
using System.Text.Json.Serialization;
using Conclave.Host.Components;
using Conclave.Host.Composition.Observability;
using Conclave.Host.Components.Sidebar;
using Conclave.Host.Markdown;
using Conclave.Identity;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Localization;

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
        builder.Services.AddScoped<SessionList>();
        return builder;
    }

    /// <summary>Any culture .NET knows, from the Accept-Language header; English (United States) when none fits.</summary>
    private static void BrowserCultures(RequestLocalizationOptions options)
    {
        var cultures = CultureInfo.GetCultures(CultureTypes.AllCultures).Where(c => c.Name.Length > 0).ToList();
        options.DefaultRequestCulture = new("en-US");
        options.SupportedCultures = cultures;
        options.SupportedUICultures = cultures;
        options.RequestCultureProviders = [new AcceptLanguageHeaderRequestCultureProvider()];
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

        // Pages (and their circuits) format numbers in the browser's language; the API stays culture-free.
        app.UseWhen(context => !context.Request.Path.StartsWithSegments("/api"), page => page.UseRequestLocalization(BrowserCultures));
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
        app.MapIdentityModule();
        // Our CSP (SecurityHeaders) sets frame-ancestors 'none' itself.
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode(o => o.ContentSecurityFrameAncestorsPolicy = null);
        return app;
    }
}
