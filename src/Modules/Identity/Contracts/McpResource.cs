using Microsoft.AspNetCore.Http;

namespace Conclave.Identity.Contracts;

/// <summary>
/// Conclave as an MCP server (ADR 0020): where it listens, and the resource (RFC 8707) its access tokens are
/// bound to. The resource is this installation's own URL of <see cref="Path"/>, as the request reached it,
/// the way OpenIddict derives the issuer.
/// </summary>
public static class McpResource
{
    /// <summary>The Streamable HTTP endpoint.</summary>
    public const string Path = "/mcp";

    /// <summary>The protected-resource metadata (RFC 9728) that a 401 from <see cref="Path"/> points to.</summary>
    public const string MetadataPath = "/.well-known/oauth-protected-resource";

    /// <summary>The canonical URI of the MCP server: the audience of its tokens.</summary>
    public static string UriFor(HttpRequest request) => $"{Origin(request)}{Path}";

    /// <summary>The protected-resource metadata's absolute URL.</summary>
    public static string MetadataUriFor(HttpRequest request) => $"{Origin(request)}{MetadataPath}";

    /// <summary>The authorization server's issuer, as OpenIddict derives it from the request (trailing slash included).</summary>
    public static string IssuerFor(HttpRequest request) => $"{Origin(request)}/";

    private static string Origin(HttpRequest request) => $"{request.Scheme}://{request.Host.ToUriComponent()}{request.PathBase.ToUriComponent()}";
}
