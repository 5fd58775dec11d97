using System.ComponentModel;
using System.Globalization;
using System.Security.Claims;
using System.Text;
using Conclave.Knowledge.Contracts;
using Conclave.Sessions.Contracts;
using ModelContextProtocol;
using ModelContextProtocol.Server;

namespace Conclave.Host.Mcp;

/// <summary><c>search_knowledge</c>: hybrid search in one of the caller's libraries, as the agents' tool of the same name does.</summary>
[McpServerToolType]
internal sealed class SearchKnowledgeTool(IKnowledgeCollections collections, IKnowledgeSearch search)
{
    [McpServerTool(Name = "search_knowledge", Title = "Search a Conclave library", ReadOnly = true, Idempotent = true, OpenWorld = false)]
    [Description("Searches one of your Conclave knowledge libraries (vector and full-text search) and returns numbered passages with their document, page and section.")]
    public async Task<string> SearchAsync(
        ClaimsPrincipal user,
        [Description("The library's name (or id), as on the Knowledge page.")] string library,
        [Description("What to look for, in plain words.")] string query,
        [Description("How many passages to return, 1 to 50.")] int top_k = 5,
        CancellationToken cancellationToken = default)
    {
        var owner = user.OwnerId();
        var libraries = await collections.ListLibrariesAsync(owner, cancellationToken);
        var wanted = library.Trim();
        var chosen = libraries.FirstOrDefault(l => Guid.TryParse(wanted, out var id) ? l.Id == id : string.Equals(l.Name, wanted, StringComparison.OrdinalIgnoreCase))
            ?? throw new McpException($"Library '{wanted}' was not found.");
        var hits = await McpCaller.AskAsync(() => search.SearchAsync(new KnowledgeQuery(owner, [chosen.Id], query, top_k), cancellationToken));
        if (hits.Count == 0)
        {
            return $"Nothing in {chosen.Name} matches \"{query}\".";
        }

        var text = new StringBuilder();
        for (var i = 0; i < hits.Count; i++)
        {
            var hit = hits[i];
            text.Append(CultureInfo.InvariantCulture, $"[{i + 1}] {hit.DocumentName}");
            if (hit.Page is { } page)
            {
                text.Append(CultureInfo.InvariantCulture, $", page {page}");
            }

            if (hit.Heading is { } heading)
            {
                text.Append(CultureInfo.InvariantCulture, $" ({heading})");
            }

            text.Append('\n').Append(hit.Passage.Trim()).Append("\n\n");
        }

        return text.ToString().TrimEnd();
    }
}
