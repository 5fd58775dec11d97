using Microsoft.AspNetCore.DataProtection;

namespace Conclave.Identity.Contracts;

/// <summary>
/// The installation's key ring (ASP.NET Core Data Protection, application name <see cref="ApplicationName"/>),
/// kept in <c>identity."DataProtectionKeys"</c> so every replica and every restart reads the same keys. The
/// Identity module protects its cookies with it; another module that stores secrets (Agents' provider keys)
/// asks it for a protector. A purpose is part of the ciphertext's identity: changing it, or the
/// application name, makes what was stored under it unreadable.
/// </summary>
public interface IKeyRing
{
    /// <summary>Data Protection's application name: it isolates Conclave's ciphertexts from other applications sharing the keys.</summary>
    const string ApplicationName = "Conclave";

    /// <summary>A protector for one kind of secret, e.g. <c>Conclave.Agents.ProviderKeys</c>.</summary>
    IDataProtector ProtectorFor(string purpose);
}
