using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Conclave.Egress;

/// <summary>What the egress policy lets through besides the internet (<c>Conclave:Egress</c>).</summary>
public sealed class EgressOptions
{
    public const string Section = "Conclave:Egress";

    /// <summary>
    /// Endpoints an admin allows although they are local or private: <c>host:port</c>
    /// (<c>localhost:11434</c> for an Ollama on this machine), an address or CIDR range, optionally
    /// with <c>:port</c> (<c>10.1.0.0/16:8000</c>, <c>[fd00::/8]:8000</c>).
    /// </summary>
    public List<string> AllowList { get; set; } = [];

    /// <summary>How long resolving and connecting may take before the endpoint counts as unreachable.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:05:00")]
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>Refuses to start with an allow-list entry that does not parse, naming the entry and what it should look like.</summary>
internal sealed class EgressOptionsValidator : IValidateOptions<EgressOptions>
{
    public ValidateOptionsResult Validate(string? name, EgressOptions options)
    {
        var failures = new List<string>();
        for (var i = 0; i < options.AllowList.Count; i++)
        {
            if (!EgressRule.TryParse(options.AllowList[i], out _, out var error))
            {
                failures.Add($"{EgressOptions.Section}:AllowList:{i} ('{options.AllowList[i]}'): {error} " +
                    "Entries are host:port (localhost:11434), an address or CIDR range (10.1.0.0/16, fd00::/8), optionally with :port (10.1.0.0/16:8000, [fd00::/8]:8000).");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
