using Conclave.Identity.Contracts;
using Microsoft.AspNetCore.DataProtection;

namespace Conclave.Chat.Connections;

/// <summary>
/// Bot tokens, app tokens and signing secrets, encrypted with the installation's key ring; plain text only
/// in memory, on the way to the platform. Hints (the last four characters) are what the admin page shows.
/// </summary>
internal sealed class ChatSecrets(IKeyRing keyRing)
{
    public const string Purpose = "Conclave.Chat.Tokens";

    private readonly IDataProtector _protector = keyRing.ProtectorFor(Purpose);

    public string Protect(string plaintext) => _protector.Protect(plaintext);

    public string Unprotect(string ciphertext) => _protector.Unprotect(ciphertext);

    public static string Hint(string secret) => secret.Length <= 8 ? "****" : "****" + secret[^4..];
}
