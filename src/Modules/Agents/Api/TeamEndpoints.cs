using System.Security.Claims;
using Conclave.Agents.Contracts;
using Conclave.Sessions.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;

namespace Conclave.Agents.Api;

/// <summary>A team as sent to create or replace one. Missing fields take the defaults of <see cref="TeamDefinition"/>.</summary>
public sealed record SaveTeamRequest(
    string? Name,
    string? Description,
    IReadOnlyList<AgentDefinition>? Agents,
    SpeakerSelection? Selection,
    string? SelectorPrompt,
    TerminationRules? Termination)
{
    internal TeamDefinition ToDefinition() => new()
    {
        Name = Name ?? "",
        Description = Description ?? "",
        Agents = Agents ?? [],
        Selection = Selection ?? SpeakerSelection.RoundRobin,
        SelectorPrompt = SelectorPrompt,
        Termination = Termination ?? new TerminationRules(),
    };
}

/// <param name="Name">The copy's name; empty means "&lt;name&gt; (copy)".</param>
public sealed record CloneTeamRequest(string? Name);

public sealed record ChooseTeamRequest(Guid? TeamId);

/// <summary>Teams over HTTP: the caller's teams and the built-in templates, and a session's team choice.</summary>
internal static class TeamEndpoints
{
    /// <summary>Room for ten agents with 8,000-character prompts, fully JSON-escaped; larger bodies get 413 unread.</summary>
    private const long MaxBodyBytes = 512 * 1024;

    public static void MapTeamEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var teams = endpoints.MapGroup("/api/v1/teams").WithTags("Teams").RequireAuthorization()
            .ProducesProblem(StatusCodes.Status404NotFound);
        teams.MapGet("/", ListAsync).WithName("ListTeams")
            .WithSummary("The built-in templates (read-only, first), then the caller's teams by name.");
        teams.MapPost("/", CreateAsync).WithName("CreateTeam").WithSummary("Create a team.")
            .WithMetadata(new RequestSizeLimitAttribute(MaxBodyBytes))
            .ProducesValidationProblem();
        teams.MapGet("/{teamId:guid}", GetAsync).WithName("GetTeam").WithSummary("A team of the caller's, or a built-in template.");
        teams.MapPut("/{teamId:guid}", UpdateAsync).WithName("UpdateTeam")
            .WithSummary("Replace one of the caller's teams (built-in templates are read-only: clone them).")
            .WithMetadata(new RequestSizeLimitAttribute(MaxBodyBytes))
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict);
        teams.MapDelete("/{teamId:guid}", DeleteAsync).WithName("DeleteTeam")
            .WithSummary("Delete one of the caller's teams.")
            .ProducesProblem(StatusCodes.Status409Conflict);
        teams.MapPost("/{teamId:guid}/clone", CloneAsync).WithName("CloneTeam")
            .WithSummary("Copy a built-in template or one of the caller's teams into a new team of the caller's.")
            .WithMetadata(new RequestSizeLimitAttribute(4 * 1024))
            .ProducesValidationProblem();

        endpoints.MapPut("/api/v1/sessions/{sessionId:guid}/team", ChooseAsync).WithTags("Sessions").RequireAuthorization()
            .WithName("ChooseSessionTeam").WithSummary("Pick the team that works the session's next runs.")
            .WithMetadata(new RequestSizeLimitAttribute(4 * 1024))
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<Ok<IReadOnlyList<TeamDefinition>>> ListAsync(ClaimsPrincipal user, ITeams teams, CancellationToken ct) =>
        TypedResults.Ok(await teams.ListAsync(user.OwnerId(), ct));

    private static async Task<Ok<TeamDefinition>> GetAsync(Guid teamId, ClaimsPrincipal user, ITeams teams, CancellationToken ct) =>
        TypedResults.Ok(await teams.FindAsync(user.OwnerId(), teamId, ct) ?? throw new TeamNotFoundException(teamId));

    private static async Task<Created<TeamDefinition>> CreateAsync(SaveTeamRequest request, ClaimsPrincipal user, ITeams teams, CancellationToken ct)
    {
        var created = await teams.CreateAsync(user.OwnerId(), request.ToDefinition(), ct);
        return TypedResults.Created($"/api/v1/teams/{created.Id}", created);
    }

    private static async Task<Ok<TeamDefinition>> UpdateAsync(
        Guid teamId, SaveTeamRequest request, ClaimsPrincipal user, ITeams teams, CancellationToken ct) =>
        TypedResults.Ok(await teams.UpdateAsync(user.OwnerId(), teamId, request.ToDefinition(), ct));

    private static async Task<NoContent> DeleteAsync(Guid teamId, ClaimsPrincipal user, ITeams teams, CancellationToken ct)
    {
        await teams.DeleteAsync(user.OwnerId(), teamId, ct);
        return TypedResults.NoContent();
    }

    private static async Task<Created<TeamDefinition>> CloneAsync(
        Guid teamId, CloneTeamRequest? request, ClaimsPrincipal user, ITeams teams, CancellationToken ct)
    {
        var copy = await teams.CloneAsync(user.OwnerId(), teamId, request?.Name, ct);
        return TypedResults.Created($"/api/v1/teams/{copy.Id}", copy);
    }

    private static async Task<Ok<SessionSummary>> ChooseAsync(
        Guid sessionId, ChooseTeamRequest request, ClaimsPrincipal user, ITeams teams, ISessions sessions, CancellationToken ct)
    {
        var teamId = request.TeamId ?? throw new TeamValidationException("teamId", "Give the id of the team to pick.");
        var team = await teams.FindAsync(user.OwnerId(), teamId, ct) ?? throw new TeamNotFoundException(teamId);
        return TypedResults.Ok(await sessions.ChooseTeamAsync(user.OwnerId(), sessionId, team.Id, team.Name, ct));
    }
}
