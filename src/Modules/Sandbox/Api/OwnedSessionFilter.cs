using System.Globalization;
using Conclave.Sessions.Contracts;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Conclave.Sandbox.Api;

/// <summary>
/// Lets a request through only when the signed-in user owns the live session named by the route's
/// <c>sessionId</c>; otherwise it is not found, exactly as the Sessions API reports it.
/// </summary>
internal sealed class OwnedSessionFilter(ISessions sessions) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var sessionId = Guid.Parse(Convert.ToString(http.GetRouteValue("sessionId"), CultureInfo.InvariantCulture)!);
        if (await sessions.FindAsync(http.User.OwnerId(), sessionId, http.RequestAborted) is null)
        {
            throw new SessionNotFoundException(sessionId);
        }
        return await next(context);
    }
}
