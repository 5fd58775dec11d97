using System.Net;
using System.Net.Http.Headers;
using Conclave.Agents.Contracts;
using Conclave.Agents.Runs;
using Conclave.Agents.Teams;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Conclave.Agents.Providers;

/// <summary>
/// Asks the default provider for its models: any answer but 401/403 means a model is reachable. The
/// answer is kept for <see cref="ReachableFor"/> (or <see cref="UnreachableFor"/>), so pages and the
/// readiness check cost one request per interval. Also the "models" health check (Degraded when unreachable:
/// the rest of Conclave works, runs on the default provider do not).
/// </summary>
internal sealed class DefaultProviderProbe(
    IHttpClientFactory clients, ProviderResolver resolver, ITeams teams, IOptionsMonitor<ModelProviderOptions> defaults, TimeProvider time)
    : IModelReachability, IHealthCheck
{
    public const string HttpClientName = "model-probe";
    private static readonly TimeSpan ReachableFor = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan UnreachableFor = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(3);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private ModelReachability? _last;

    public async Task<ModelReachability> DefaultProviderAsync(CancellationToken cancellationToken)
    {
        if (Fresh(_last) is { } known)
        {
            return known;
        }
        await _gate.WaitAsync(cancellationToken);
        try
        {
            return Fresh(_last) ?? (_last = await ProbeAsync(cancellationToken));
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<ModelReachability?> ForTeamAsync(string ownerId, Guid? teamId, CancellationToken cancellationToken)
    {
        var team = await teams.FindAsync(ownerId, teamId ?? TeamTemplates.AssistantId, cancellationToken);
        return team is null || team.Agents.Any(a => a.ProviderId is null) ? await DefaultProviderAsync(cancellationToken) : null;
    }

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var state = await DefaultProviderAsync(cancellationToken);
        var data = new Dictionary<string, object> { ["provider"] = state.Name, ["baseUrl"] = state.BaseUrl.ToString() };
        return state.Reachable
            ? HealthCheckResult.Healthy($"The default model provider '{state.Name}' answers.", data)
            : HealthCheckResult.Degraded(state.Problem, data: data);
    }

    private ModelReachability? Fresh(ModelReachability? last) =>
        last is not null && defaults.CurrentValue.BaseUrl == last.BaseUrl
        && time.GetUtcNow() - last.CheckedAt < (last.Reachable ? ReachableFor : UnreachableFor) ? last : null;

    private async Task<ModelReachability> ProbeAsync(CancellationToken cancellationToken)
    {
        var provider = await resolver.ResolveAsync("", null, null, cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ProbeTimeout);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(provider.BaseUrl, "models"));
            if (provider.ApiKey is { } key)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            }
            using var response = await clients.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var problem = response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden
                ? $"The default model provider '{provider.Name}' at {provider.BaseUrl} rejected the API key ({(int)response.StatusCode}). " +
                  "Set Conclave:Models:Default:ApiKey, or add a provider on the Providers page."
                : null;
            return new ModelReachability(problem is null, provider.Name, provider.BaseUrl, problem, time.GetUtcNow());
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            return new ModelReachability(false, provider.Name, provider.BaseUrl, ProviderFailure.Describe(e, provider), time.GetUtcNow());
        }
    }
}
