using System.ComponentModel;
using System.Security.Claims;
using Conclave.Sessions.Contracts;
using ModelContextProtocol.Server;

namespace Conclave.Host.Mcp;

/// <summary><c>list_sessions</c>: the caller's sessions, most recent first, with their links.</summary>
[McpServerToolType]
internal sealed class ListSessionsTool(ISessions sessions, IHttpContextAccessor http)
{
    [McpServerTool(Name = "list_sessions", Title = "List your Conclave sessions", ReadOnly = true, Idempotent = true, OpenWorld = false, UseStructuredContent = true)]
    [Description("Lists your Conclave sessions, most recent first: title, team, the last run's status, when it changed, and the session's link.")]
    public async Task<McpSessionList> ListAsync(ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var list = await sessions.ListAsync(user.OwnerId(), cancellationToken);
        return new McpSessionList([.. list.Select(s => new McpSessionItem(
            s.Id, s.Title, s.TeamName, s.LastRunStatus.ToString(), s.UpdatedAt, McpCaller.SessionLink(http, s.Id)))]);
    }
}

/// <summary>What <c>list_sessions</c> returns (an object, as structured tool output must be).</summary>
public sealed record McpSessionList(IReadOnlyList<McpSessionItem> Sessions);

public sealed record McpSessionItem(Guid Id, string Title, string? Team, string LastRunStatus, DateTimeOffset UpdatedAt, string Link);
