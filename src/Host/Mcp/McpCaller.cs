using Conclave.Agents.Contracts;
using Conclave.Knowledge.Contracts;
using Conclave.Sessions.Contracts;
using ModelContextProtocol;

namespace Conclave.Host.Mcp;

/// <summary>What the MCP tools share: links into the UI, and the modules' refusals as tool errors the caller reads.</summary>
internal static class McpCaller
{
    /// <summary>The session's page, absolute when the request is known (it always is over HTTP).</summary>
    public static string SessionLink(IHttpContextAccessor http, Guid sessionId) =>
        http.HttpContext?.Request is { } request
            ? $"{request.Scheme}://{request.Host.ToUriComponent()}{request.PathBase.ToUriComponent()}/sessions/{sessionId}"
            : $"/sessions/{sessionId}";

    /// <summary>Runs a use case, turning what the user can fix (not found, bad input, quota) into an error result with its message.</summary>
    public static async Task<T> AskAsync<T>(Func<Task<T>> useCase)
    {
        try
        {
            return await useCase();
        }
        catch (Exception e) when (e is SessionNotFoundException or SessionValidationException or QuotaExceededException
                                      or TeamNotFoundException or TeamValidationException
                                      or KnowledgeNotFoundException or KnowledgeValidationException or KnowledgeLimitException)
        {
            throw new McpException(e.Message, e);
        }
    }
}
