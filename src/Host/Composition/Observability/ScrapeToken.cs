using System.Security.Cryptography;
using System.Text;

namespace Conclave.Host.Composition.Observability;

/// <summary>The check in front of <c>/metrics</c> on the public port: the bearer token, compared in constant time.</summary>
internal static class ScrapeToken
{
    private const string Scheme = "Bearer ";

    public static bool Matches(string? authorization, string expected)
    {
        if (authorization is null || !authorization.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        // Hashes have one length whatever was sent, so the comparison takes the same time for any guess.
        var given = SHA256.HashData(Encoding.UTF8.GetBytes(authorization[Scheme.Length..].Trim()));
        return CryptographicOperations.FixedTimeEquals(given, SHA256.HashData(Encoding.UTF8.GetBytes(expected)));
    }

    /// <summary>Answers 401 unless the request carries the token.</summary>
    public static Func<HttpContext, RequestDelegate, Task> Require(string expected) => (context, next) =>
    {
        if (Matches(context.Request.Headers.Authorization, expected))
        {
            return next(context);
        }

        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        context.Response.Headers.WWWAuthenticate = "Bearer realm=\"metrics\"";
        return Task.CompletedTask;
    };
}
