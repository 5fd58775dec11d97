using Conclave.Identity.Contracts;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.Abstractions;

namespace Conclave.Identity.ApiAccess;

/// <summary>
/// Who may call <c>/api/**</c>: a bearer token with <see cref="ApiScopes.Read"/> (GET/HEAD) or
/// <see cref="ApiScopes.Write"/> (everything else), or the UI's cookie, whose unsafe requests must carry
/// an antiforgery token (a cookie is sent by the browser on its own; a header is not).
/// </summary>
internal static class ApiRequests
{
    public static bool IsApi(this HttpRequest request) => request.Path.StartsWithSegments("/api");

    public static bool HasBearerToken(this HttpRequest request) =>
        request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase);

    public static bool IsSafe(string method) =>
        HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method) || HttpMethods.IsTrace(method);

    /// <summary>Rejects cookie-authenticated unsafe API requests without a valid antiforgery token.</summary>
    public static async Task RequireAntiforgeryForCookieCallsAsync(HttpContext context, RequestDelegate next)
    {
        var request = context.Request;
        if (request.IsApi() && !IsSafe(request.Method) && !request.HasBearerToken() && context.User.Identity?.IsAuthenticated == true)
        {
            var antiforgery = context.RequestServices.GetRequiredService<IAntiforgery>();
            if (!await antiforgery.IsRequestValidAsync(context))
            {
                await Results.Problem(
                    statusCode: StatusCodes.Status400BadRequest,
                    title: "Missing or invalid antiforgery token",
                    detail: "A request signed in with the browser cookie must send the page's antiforgery token in the RequestVerificationToken header; API clients use a bearer token instead.")
                    .ExecuteAsync(context);
                return;
            }
        }

        await next(context);
    }
}

internal sealed class ApiScopeRequirement : IAuthorizationRequirement;

internal sealed class ApiScopeHandler : AuthorizationHandler<ApiScopeRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, ApiScopeRequirement requirement)
    {
        if (context.User.Identity?.IsAuthenticated != true || context.Resource is not HttpContext http)
        {
            return Task.CompletedTask;
        }

        if (!http.Request.HasBearerToken())
        {
            // The UI's cookie: the user acting in their own browser may read and write.
            context.Succeed(requirement);
            return Task.CompletedTask;
        }

        if (context.User.GetAudiences().Any())
        {
            // Only tokens for the REST API itself (no audience) are API tokens: one issued for the MCP server stays there.
            context.Fail(new AuthorizationFailureReason(this, "The access token was issued for another resource."));
            return Task.CompletedTask;
        }

        var needed = ApiRequests.IsSafe(http.Request.Method) ? ApiScopes.Read : ApiScopes.Write;
        if (context.User.HasScope(needed))
        {
            context.Succeed(requirement);
        }
        else
        {
            context.Fail(new AuthorizationFailureReason(this, $"The access token lacks the {needed} scope."));
        }

        return Task.CompletedTask;
    }
}
