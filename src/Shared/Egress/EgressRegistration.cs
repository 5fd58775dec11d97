using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Conclave.Egress;

public static class EgressRegistration
{
    /// <summary>
    /// Registers the one <see cref="EgressPolicy"/> of the process, its options (validated on start)
    /// and the system resolver. Idempotent: the Host and every module that connects for users may call it.
    /// </summary>
    public static IServiceCollection AddEgressPolicy(this IServiceCollection services, IConfiguration configuration)
    {
        if (services.Any(d => d.ServiceType == typeof(EgressPolicy)))
        {
            return services;
        }

        services.AddOptions<EgressOptions>()
            .Bind(configuration.GetSection(EgressOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<EgressOptions>, EgressOptionsValidator>();
        services.TryAddSingleton<IDnsResolver, SystemDnsResolver>();
        services.AddSingleton<EgressPolicy>();
        return services;
    }
}
