using System.Net;

namespace Conclave.Egress;

/// <summary>
/// Host names to addresses, for the egress policy to check before it connects. Production asks the
/// system resolver; the interface exists only so tests can stand in for outside DNS (a name that
/// resolves to loopback), which cannot run where the tests do.
/// </summary>
public interface IDnsResolver
{
    Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken);
}

internal sealed class SystemDnsResolver : IDnsResolver
{
    public Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken) =>
        Dns.GetHostAddressesAsync(host, cancellationToken);
}
