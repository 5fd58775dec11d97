namespace Conclave.Identity.Contracts;

/// <summary>The API's OAuth scopes: reading (GET) and changing (every other method).</summary>
public static class ApiScopes
{
    public const string Read = "conclave.read";
    public const string Write = "conclave.write";
}
