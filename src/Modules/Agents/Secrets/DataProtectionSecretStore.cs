using Conclave.Identity.Contracts;
using Microsoft.AspNetCore.DataProtection;

namespace Conclave.Agents.Secrets;

/// <summary>
/// Secrets encrypted with the Identity module's key ring (<see cref="IKeyRing"/>: ASP.NET Core Data
/// Protection, keys in PostgreSQL), so every replica decrypts what another stored, after restarts too.
/// </summary>
internal sealed class DataProtectionSecretStore(IKeyRing keyRing) : ISecretStore
{
    /// <summary>Stored provider keys were protected under this purpose: changing it makes them unreadable.</summary>
    public const string Purpose = "Conclave.Agents.ProviderKeys";

    private readonly IDataProtector _protector = keyRing.ProtectorFor(Purpose);

    public string Protect(string plaintext) => _protector.Protect(plaintext);

    public string Unprotect(string ciphertext) => _protector.Unprotect(ciphertext);
}
