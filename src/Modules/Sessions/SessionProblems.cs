using Conclave.Sessions.Contracts;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace Conclave.Sessions;

/// <summary>Turns the module's user-fixable errors into ProblemDetails.</summary>
internal sealed class SessionProblems(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        var details = exception switch
        {
            SessionNotFoundException e => new ProblemDetails
            {
                Status = StatusCodes.Status404NotFound,
                Title = "Session not found",
                Detail = e.Message,
            },
            ApprovalNotFoundException e => new ProblemDetails
            {
                Status = StatusCodes.Status404NotFound,
                Title = "Approval not found",
                Detail = e.Message,
            },
            SessionValidationException e => new ValidationProblemDetails(
                new Dictionary<string, string[]> { [e.Field] = [e.Message] })
            {
                Status = StatusCodes.Status400BadRequest,
                Title = "The request is not valid",
                Detail = e.Message,
            },
            RunAlreadyEndedException e => new ProblemDetails
            {
                Status = StatusCodes.Status409Conflict,
                Title = "The run has already ended",
                Detail = e.Message,
            },
            QuotaExceededException e => new ProblemDetails
            {
                Status = StatusCodes.Status429TooManyRequests,
                Title = "A quota is used up",
                Detail = e.Message,
            },
            RunStateException e => new ProblemDetails
            {
                Status = StatusCodes.Status409Conflict,
                Title = "The run cannot do that now",
                Detail = e.Message,
            },
            _ => null,
        };
        if (details is null)
        {
            return false;
        }

        context.Response.StatusCode = details.Status!.Value;
        if (exception is QuotaExceededException { RetryAfter: { } retryAfter })
        {
            context.Response.Headers.RetryAfter = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = details,
            Exception = exception,
        });
    }
}
