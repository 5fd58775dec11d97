using System.Diagnostics;
using System.Globalization;

namespace Conclave.Deployment.Tests.Fixtures;

/// <summary>
/// The Conclave image, built (or found up to date) by scripts/image.sh once per test run, and the
/// engine the tests run it on: Podman's CLI for the Conclave container, its Docker API socket (the
/// one the sandbox tests use) mounted into it for the sandboxes.
/// </summary>
public sealed class ConclaveImage : IAsyncLifetime
{
    public string Name { get; private set; } = "";

    /// <summary>What the image build took (seconds; a cached build is quick).</summary>
    public double BuildSeconds { get; private set; }

    public long SizeBytes { get; private set; }

    /// <summary>The engine's Docker API socket on this machine (from <c>Conclave__Sandbox__DockerEndpoint</c>).</summary>
    public string EngineSocket { get; private set; } = "";

    public string SandboxImage { get; } =
        Environment.GetEnvironmentVariable("Conclave__Sandbox__Image") is { Length: > 0 } image ? image : "localhost/conclave-sandbox:1";

    public async Task InitializeAsync()
    {
        var endpoint = Environment.GetEnvironmentVariable("Conclave__Sandbox__DockerEndpoint") ?? "";
        if (!endpoint.StartsWith("unix://", StringComparison.Ordinal) || !File.Exists(endpoint["unix://".Length..]))
        {
            throw new InvalidOperationException(
                $"The image tests run Conclave's sandboxes on the engine socket of Conclave__Sandbox__DockerEndpoint ('{endpoint}'), " +
                "a rootful Podman's: run them with ./test.sh, or after `scripts/deps.sh` with `. .data/env.sh`.");
        }
        EngineSocket = endpoint["unix://".Length..];

        var started = Stopwatch.GetTimestamp();
        var built = await Repository.ScriptAsync("image.sh", TimeSpan.FromMinutes(45));
        BuildSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        Name = Repository.Exports(built.Output)["CONCLAVE_IMAGE"];
        var size = await Podman.RunAsync(["image", "inspect", "--format", "{{.Size}}", Name]);
        SizeBytes = long.Parse(size.Trim(), CultureInfo.InvariantCulture);
    }

    public Task DisposeAsync() => Task.CompletedTask;
}

[CollectionDefinition(Name)]
public sealed class ImageCollection : ICollectionFixture<ConclaveImage>
{
    public const string Name = "image";
}
