using Microsoft.AspNetCore.DataProtection;

namespace Conclave.Agents.Secrets;

/// <summary>Secrets encrypted with ASP.NET Core Data Protection (the key ring is configured by the Host).</summary>
internal sealed class DataProtectionSecretStore(IDataProtectionProvider provider) : ISecretStore
{
    public const string Purpose = "Conclave.Agents.ProviderKeys";

    private readonly IDataProtector _protector = provider.CreateProtector(Purpose);

    public string Protect(string plaintext) => _protector.Protect(plaintext);

    public string Unprotect(string ciphertext) => _protector.Unprotect(ciphertext);
}
