using Conclave.Identity.Contracts;
using Microsoft.AspNetCore.DataProtection;

namespace Conclave.Identity.Store;

/// <summary>The Data Protection key ring kept in <see cref="IdentityDb.DataProtectionKeys"/>, handed out one purpose at a time.</summary>
internal sealed class KeyRing(IDataProtectionProvider provider) : IKeyRing
{
    public IDataProtector ProtectorFor(string purpose) => provider.CreateProtector(purpose);
}
