using Conclave.Knowledge.Contracts;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace Conclave.Knowledge.Api;

/// <summary>Turns the module's user-fixable errors into ProblemDetails that say what to do.</summary>
internal sealed class KnowledgeProblems(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        ProblemDetails? details = exception switch
        {
            KnowledgeNotFoundException e => new ProblemDetails
            {
                Status = StatusCodes.Status404NotFound,
                Title = "Not found",
                Detail = e.Message,
            },
            KnowledgeValidationException e => new ValidationProblemDetails(new Dictionary<string, string[]> { [e.Field] = [e.Message] })
            {
                Status = StatusCodes.Status400BadRequest,
                Title = "The request is not valid",
                Detail = e.Message,
            },
            KnowledgeLimitException e => new ProblemDetails
            {
                Status = e.Limit is nameof(KnowledgeLimitsOptions.MaxDocumentBytes) or nameof(KnowledgeLimitsOptions.MaxStorageBytesPerUser)
                    ? StatusCodes.Status413PayloadTooLarge
                    : StatusCodes.Status409Conflict,
                Title = $"A limit was reached: {e.Limit}",
                Detail = e.Message,
                Extensions = { ["limit"] = e.Limit },
            },
            _ => null,
        };
        if (details is null)
        {
            return false;
        }

        context.Response.StatusCode = details.Status!.Value;
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = details, Exception = exception });
    }
}
