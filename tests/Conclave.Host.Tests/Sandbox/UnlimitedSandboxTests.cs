using System.Net;
using Conclave.Sandbox.Contracts;
using Conclave.Testing.Host;

namespace Conclave.Host.Tests.Sandbox;

/// <summary>A fact that needs scripts/podman-rootless.sh's engine; test.sh always provides it.</summary>
public sealed class RootlessEngineFactAttribute : FactAttribute
{
    public const string Variable = "CONCLAVE_ROOTLESS_DOCKER_ENDPOINT";

    public RootlessEngineFactAttribute()
    {
        if (Environment.GetEnvironmentVariable(Variable) is not { Length: > 0 })
        {
            Skip = $"{Variable} is not set: no rootless engine to test against (scripts/podman-rootless.sh).";
        }
    }
}

/// <summary>The Host against rootless Podman on cgroup v1 (no cgroup limits), with unlimited sandboxes allowed by the operator.</summary>
public sealed class UnlimitedSandboxApp : ConclaveApp
{
    private readonly string _seccomp = Path.Combine(Path.GetTempPath(), $"conclave-seccomp-{Guid.NewGuid():N}.json");

    public UnlimitedSandboxApp()
    {
        if (Environment.GetEnvironmentVariable(RootlessEngineFactAttribute.Variable) is { Length: > 0 } endpoint)
        {
            // The engine's user reads the profile from its path: a copy it can reach.
            File.Copy(Path.Combine(AppContext.BaseDirectory, "sandbox", "seccomp.json"), _seccomp);
            ExtraSettings["Conclave:Sandbox:DockerEndpoint"] = endpoint;
            ExtraSettings["Conclave:Sandbox:SeccompProfile"] = _seccomp;
            ExtraSettings["Conclave:Sandbox:AllowUnlimitedSandboxes"] = "true";
        }
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        File.Delete(_seccomp);
    }
}

public sealed class UnlimitedSandboxTests(UnlimitedSandboxApp app) : IClassFixture<UnlimitedSandboxApp>
{
    [RootlessEngineFact]
    public async Task With_unlimited_sandboxes_allowed_code_runs_and_the_admin_page_and_readiness_warn()
    {
        var session = await app.CreateSessionAsync("unlimited");

        var result = await app.Service<ISandbox>().ExecuteAsync(session.Id, "print('ran without limits')", TimeSpan.FromSeconds(60));
        await app.CreateUserAsync("operator");
        await app.MakeAdminAsync("operator");
        using var operatorClient = await app.CreateUserClientAsync("operator");
        var admin = await operatorClient.GetAsync("/admin");
        var page = await admin.Content.ReadAsStringAsync();
        var ready = await app.Client.GetStringAsync("/health/ready");

        Assert.True(result.Status == ExecutionStatus.Ok, $"{result.Error?.Name}: {result.Error?.Value}");
        Assert.Equal("ran without limits\n", result.Stdout);
        Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
        Assert.Contains("data-state=\"Unlimited\"", page, StringComparison.Ordinal);
        Assert.Contains("Sandboxes run WITHOUT limits.", page, StringComparison.Ordinal);
        Assert.Contains("WARNING: sandboxes run without", page, StringComparison.Ordinal);
        Assert.Contains("AllowUnlimitedSandboxes", page, StringComparison.Ordinal);
        Assert.Contains("\"Degraded\"", ready, StringComparison.Ordinal);
        Assert.Contains("WARNING", ready, StringComparison.Ordinal);
    }
}
