using System.Net.Http.Headers;
using System.Text;
using Conclave.Identity.Accounts;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Conclave.Identity.OidcServer;

/// <summary>
/// The sign-in throttle in front of the OpenID Connect authorize and token endpoints. It runs before
/// authentication because OpenIddict answers a wrong client secret or a dead code there, before any
/// endpoint. Authorize checks no secret: a budget per client address. Token: that budget, and per
/// client from that address a few free failures, then waits that double.
/// </summary>
internal static class ConnectThrottle
{
    public static async Task GuardAsync(HttpContext context, RequestDelegate next)
    {
        var path = context.Request.Path;
        var token = path.StartsWithSegments("/connect/token", StringComparison.OrdinalIgnoreCase);
        if (!token && !path.StartsWithSegments("/connect/authorize", StringComparison.OrdinalIgnoreCase))
        {
            await next(context);
            return;
        }

        var throttle = context.RequestServices.GetRequiredService<SignInThrottle>();
        var clientId = token ? await ClientIdAsync(context.Request) : null;
        if ((clientId is null ? throttle.AdmitRequest(context) : throttle.AdmitClientCheck(context, clientId)) is { } wait)
        {
            await RefuseAsync(context, token, wait);
            return;
        }

        await next(context);
        if (clientId is not null && context.Response.StatusCode == StatusCodes.Status200OK)
        {
            throttle.ClientCheckSucceeded(context, clientId);
        }
    }

    private static async Task RefuseAsync(HttpContext context, bool token, TimeSpan wait)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status429TooManyRequests;
        var seconds = SignInThrottle.SetRetryAfter(response, wait);
        if (token)
        {
            // The token endpoint's error shape (RFC 6749 5.2). Not invalid_grant: the grant was not looked at,
            // and a client that took it for a dead refresh token would throw the token away.
            response.Headers.CacheControl = "no-store";
            await response.WriteAsJsonAsync(
                new Dictionary<string, string>
                {
                    ["error"] = "temporarily_unavailable",
                    ["error_description"] = $"Too many token requests from this address. Try again in {seconds} s.",
                },
                context.RequestAborted);
            return;
        }

        await Results.Problem(
            statusCode: StatusCodes.Status429TooManyRequests,
            title: "Too many sign-in requests",
            detail: $"Too many sign-in requests from this address. Try again in {seconds} s.")
            .ExecuteAsync(context);
    }

    /// <summary>The client id of a token request: from HTTP Basic (client_secret_basic) or the form.</summary>
    private static async Task<string?> ClientIdAsync(HttpRequest request)
    {
        if (AuthenticationHeaderValue.TryParse(request.Headers.Authorization, out var header)
            && header.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase) && header.Parameter is { } credentials)
        {
            try
            {
                var pair = Encoding.UTF8.GetString(Convert.FromBase64String(credentials));
                var colon = pair.IndexOf(':', StringComparison.Ordinal);
                return colon > 0 ? Bounded(Uri.UnescapeDataString(pair[..colon])) : null;
            }
            catch (FormatException)
            {
                return null;
            }
        }

        if (!HttpMethods.IsPost(request.Method) || !request.HasFormContentType)
        {
            return null;
        }

        try
        {
            // Read once here; OpenIddict reads the same parsed form afterwards.
            var form = await request.ReadFormAsync(request.HttpContext.RequestAborted);
            return form["client_id"] is { Count: 1 } id && !string.IsNullOrEmpty(id[0]) ? Bounded(id[0]!) : null;
        }
        catch (Exception e) when (e is InvalidDataException or BadHttpRequestException)
        {
            // OpenIddict answers the malformed request itself.
            return null;
        }
    }

    private static string Bounded(string clientId) => clientId.Length > 100 ? clientId[..100] : clientId;
}
