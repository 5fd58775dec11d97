using Conclave.Testing.Host;

namespace Conclave.Host.Tests;

/// <summary>
/// One Host for the test classes whose tests leave nothing another class could trip on: each works in its
/// own sessions, teams, users and clients, does not restart the Host, count the node's containers or assert
/// on the scripted provider's requests. They run one class after another on it; every other class has a
/// Host of its own and runs beside them.
/// </summary>
[CollectionDefinition(Name)]
public sealed class SharedHost : ICollectionFixture<ConclaveApp>
{
    public const string Name = "shared host";
}
