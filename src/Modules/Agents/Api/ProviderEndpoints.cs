using System.Security.Claims;
using Conclave.Agents.Contracts;
using Conclave.Sessions.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;

namespace Conclave.Agents.Api;

/// <summary>A provider as sent to create or change one.</summary>
/// <param name="BaseUrl">Empty takes the preset's URL (a custom provider must give one).</param>
/// <param name="ApiKey">On update: null (absent) keeps the stored key, "" removes it. Never sent back.</param>
public sealed record SaveProviderRequest(
    string? Name,
    ProviderPreset? Preset,
    string? BaseUrl,
    IReadOnlyList<string>? Models,
    string? ApiKey,
    decimal? InputPricePerMillion,
    decimal? OutputPricePerMillion)
{
    internal ProviderInput ToInput()
    {
        Uri? baseUrl = null;
        if (!string.IsNullOrWhiteSpace(BaseUrl) && !Uri.TryCreate(BaseUrl.Trim(), UriKind.Absolute, out baseUrl))
        {
            throw new ProviderValidationException("baseUrl", "The base URL must be an absolute http:// or https:// URL, e.g. https://api.openai.com/v1/.");
        }

        return new ProviderInput(Name ?? "", Preset ?? ProviderPreset.Custom, baseUrl, Models ?? [], ApiKey, InputPricePerMillion, OutputPricePerMillion);
    }
}

/// <summary>Model providers over HTTP. Keys go in and never come out: responses carry a hint of the last four characters.</summary>
internal static class ProviderEndpoints
{
    private const long MaxBodyBytes = 64 * 1024;

    public static void MapProviderEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var providers = endpoints.MapGroup("/api/v1/providers").WithTags("Providers").RequireAuthorization()
            .ProducesProblem(StatusCodes.Status404NotFound);
        providers.MapGet("/presets", () => TypedResults.Ok(ProviderPresets.All)).WithName("ListProviderPresets")
            .WithSummary("The presets: name, default base URL (none for custom) and suggested models.");
        providers.MapGet("/", ListAsync).WithName("ListProviders").WithSummary("The caller's providers by name (keys show only as a hint).");
        providers.MapPost("/", CreateAsync).WithName("CreateProvider").WithSummary("Add a provider; its key is stored encrypted.")
            .WithMetadata(new RequestSizeLimitAttribute(MaxBodyBytes))
            .ProducesValidationProblem();
        providers.MapGet("/{providerId:guid}", GetAsync).WithName("GetProvider").WithSummary("One of the caller's providers (the key only as a hint).");
        providers.MapPut("/{providerId:guid}", UpdateAsync).WithName("UpdateProvider")
            .WithSummary("Change a provider: an absent apiKey keeps the stored key, an empty one removes it.")
            .WithMetadata(new RequestSizeLimitAttribute(MaxBodyBytes))
            .ProducesValidationProblem();
        providers.MapDelete("/{providerId:guid}", DeleteAsync).WithName("DeleteProvider")
            .WithSummary("Delete a provider no team uses (409 names the teams that still do).")
            .ProducesProblem(StatusCodes.Status409Conflict);
    }

    private static async Task<Ok<IReadOnlyList<ProviderSettings>>> ListAsync(ClaimsPrincipal user, IProviders providers, CancellationToken ct) =>
        TypedResults.Ok(await providers.ListAsync(user.OwnerId(), ct));

    private static async Task<Ok<ProviderSettings>> GetAsync(Guid providerId, ClaimsPrincipal user, IProviders providers, CancellationToken ct) =>
        TypedResults.Ok(await providers.FindAsync(user.OwnerId(), providerId, ct) ?? throw new ProviderNotFoundException(providerId));

    private static async Task<Created<ProviderSettings>> CreateAsync(
        SaveProviderRequest request, ClaimsPrincipal user, IProviders providers, CancellationToken ct)
    {
        var created = await providers.CreateAsync(user.OwnerId(), request.ToInput(), ct);
        return TypedResults.Created($"/api/v1/providers/{created.Id}", created);
    }

    private static async Task<Ok<ProviderSettings>> UpdateAsync(
        Guid providerId, SaveProviderRequest request, ClaimsPrincipal user, IProviders providers, CancellationToken ct) =>
        TypedResults.Ok(await providers.UpdateAsync(user.OwnerId(), providerId, request.ToInput(), ct));

    private static async Task<NoContent> DeleteAsync(Guid providerId, ClaimsPrincipal user, IProviders providers, CancellationToken ct)
    {
        await providers.DeleteAsync(user.OwnerId(), providerId, ct);
        return TypedResults.NoContent();
    }
}
