using Conclave.Agents.Contracts;
using Conclave.Egress;
using Microsoft.Extensions.Options;

namespace Conclave.Agents.Providers;

/// <summary>
/// The egress policy as model calls apply it: the installation's default provider
/// (<c>Conclave:Models:Default</c>, set by the admin) is trusted, so its endpoint is allowed even on
/// loopback; every other endpoint is a user's and must pass the policy, when saved and when connected to.
/// </summary>
internal sealed class ModelEgress(EgressPolicy policy, IOptionsMonitor<ModelProviderOptions> defaults)
{
    /// <summary>The endpoints model calls trust besides the allow-list: the default provider's host and port.</summary>
    public IReadOnlyList<EgressRule> Trusted => [EgressRule.ForEndpoint(defaults.CurrentValue.BaseUrl)];

    /// <summary>The model-provider client's handler: connections checked by the policy, no redirects followed.</summary>
    public SocketsHttpHandler CreateHandler()
    {
        var handler = policy.CreateHandler(() => Trusted);
        // An answer abandoned at a cap is not read on for the sake of reusing its connection.
        handler.MaxResponseDrainSize = 0;
        return handler;
    }

    /// <summary>Refuses a base URL the policy would refuse anyway, with a 400 naming the field instead of a failed run later.</summary>
    public void CheckBaseUrl(Uri baseUrl)
    {
        if (policy.RefusalOf(baseUrl, Trusted) is { } reason)
        {
            throw new ProviderValidationException("baseUrl", reason);
        }
    }
}
