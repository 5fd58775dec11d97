using Conclave.Agents.Contracts;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace Conclave.Agents.Api;

/// <summary>Turns the module's user-fixable errors into ProblemDetails that say what to do.</summary>
internal sealed class AgentsProblems(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        var details = exception switch
        {
            TeamNotFoundException e => NotFound("Team not found", $"{e.Message} List your teams to see what is there."),
            ProviderNotFoundException e => NotFound("Provider not found", $"{e.Message} List your providers to see what is there."),
            TeamValidationException e => Invalid("The team is not valid", e.Field, e.Message),
            ProviderValidationException e => Invalid("The provider is not valid", e.Field, e.Message),
            TeamReadOnlyException e => Conflict("Built-in templates are read-only", e.Message),
            ProviderInUseException e => Conflict("The provider is in use", e.Message),
            _ => null,
        };
        if (details is null)
        {
            return false;
        }

        context.Response.StatusCode = details.Status!.Value;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = details,
            Exception = exception,
        });
    }

    private static ProblemDetails NotFound(string title, string detail) =>
        new() { Status = StatusCodes.Status404NotFound, Title = title, Detail = detail };

    private static ProblemDetails Conflict(string title, string detail) =>
        new() { Status = StatusCodes.Status409Conflict, Title = title, Detail = detail };

    private static ValidationProblemDetails Invalid(string title, string field, string message) =>
        new(new Dictionary<string, string[]> { [field] = [message] })
        {
            Status = StatusCodes.Status400BadRequest,
            Title = title,
            Detail = message,
        };
}
