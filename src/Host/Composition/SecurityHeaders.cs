namespace Conclave.Host.Composition;

/// <summary>
/// Headers on every response. The CSP fits Blazor Server: scripts only from this origin (blazor.web.js,
/// app.js), the circuit's WebSocket to this origin, inline styles (Blazor's reconnect UI injects some),
/// images from this origin and data: URIs, nothing may frame the site.
/// </summary>
internal static class SecurityHeaders
{
    private const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
        "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'";

    public static Task AddAsync(HttpContext context, RequestDelegate next)
    {
        context.Response.OnStarting(() =>
        {
            // An endpoint's own, stricter policy (e.g. file downloads' sandbox) stays.
            var headers = context.Response.Headers;
            headers.TryAdd("Content-Security-Policy", ContentSecurityPolicy);
            headers.TryAdd("X-Content-Type-Options", "nosniff");
            headers.TryAdd("X-Frame-Options", "DENY");
            headers.TryAdd("Referrer-Policy", "strict-origin-when-cross-origin");
            return Task.CompletedTask;
        });
        return next(context);
    }
}
