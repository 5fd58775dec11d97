using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Wolverine.Postgresql.Transport;
using Wolverine.Runtime;
using Wolverine.Transports;

namespace Conclave.Sandbox.Nodes;

/// <summary>
/// The PostgreSQL queue (Wolverine's PostgreSQL transport) each node listens on for calls to the sandboxes it
/// holds, named after its node id. Queue names become table names, so the id is reduced to a short SQL
/// identifier and a hash of the whole id keeps two similar ids apart.
/// </summary>
internal static class NodeQueue
{
    private const int MaxReadablePart = 18;

    public static string Name(string nodeId)
    {
        var readable = new StringBuilder();
        foreach (var c in nodeId.ToLowerInvariant())
        {
            if (readable.Length == MaxReadablePart)
            {
                break;
            }
            readable.Append(c is >= 'a' and <= 'z' or >= '0' and <= '9' ? c : '_');
        }
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(nodeId)))[..8];
        return $"sandbox_{readable}_{hash}";
    }

    public static Uri Address(string nodeId) => new($"postgresql://{Name(nodeId)}");

    /// <summary>Creates the node's queue tables where they are missing (Wolverine's own setup; nothing when they exist).</summary>
    public static async Task SetUpAsync(IWolverineRuntime runtime, string nodeId, ILogger logger) =>
        await Queue(runtime, nodeId).SetupAsync(logger);

    /// <summary>Drops the queue tables of a node that is gone, with whatever calls for it expired in them.</summary>
    public static async Task DropAsync(IWolverineRuntime runtime, string nodeId, ILogger logger) =>
        await Queue(runtime, nodeId).TeardownAsync(logger);

    private static IBrokerQueue Queue(IWolverineRuntime runtime, string nodeId) =>
        (IBrokerQueue)runtime.Options.Transports.GetOrCreate<PostgresqlTransport>().GetOrCreateEndpoint(Address(nodeId));
}
