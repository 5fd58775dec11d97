using Conclave.Sandbox.Contracts;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Net.Http.Headers;

namespace Conclave.Sandbox.Api;

/// <summary>Turns the module's user-fixable errors into ProblemDetails that say what to do.</summary>
internal sealed class SandboxProblems(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        var details = exception switch
        {
            WorkspacePathException e => new ValidationProblemDetails(
                new Dictionary<string, string[]> { ["path"] = [e.Message] })
            {
                Status = StatusCodes.Status400BadRequest,
                Title = "The file path is not valid",
                Detail = $"{e.Message} Give a path relative to the workspace with '/' between folders, e.g. data/input.csv.",
            },
            WorkspaceFileNotFoundException e => new ProblemDetails
            {
                Status = StatusCodes.Status404NotFound,
                Title = "File not found",
                Detail = $"{e.Message} List the session's files to see what is there.",
            },
            WorkspaceQuotaExceededException e => new ProblemDetails
            {
                Status = StatusCodes.Status413PayloadTooLarge,
                Title = "The workspace is full",
                Detail = e.Message,
            },
            UploadRejectedException e => new ProblemDetails
            {
                Status = e.Status,
                Title = e.Title,
                Detail = e.Message,
            },
            SandboxUnavailableException e => new ProblemDetails
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "The sandbox is unavailable",
                Detail = $"{e.Message} Try again in a minute; if it keeps failing, ask an administrator to check the container engine.",
            },
            _ => null,
        };
        if (details is null)
        {
            return false;
        }

        context.Response.StatusCode = details.Status!.Value;
        if (exception is SandboxUnavailableException)
        {
            context.Response.Headers[HeaderNames.RetryAfter] = "60";
        }
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = details,
            Exception = exception,
        });
    }
}

/// <summary>An upload the module refuses before or while storing it (nothing of it is kept); the message says how to fix it.</summary>
internal sealed class UploadRejectedException(int status, string title, string message) : Exception(message)
{
    public int Status { get; } = status;

    public string Title { get; } = title;

    public static UploadRejectedException TooLarge(long limitBytes) => new(
        StatusCodes.Status413PayloadTooLarge,
        "The upload is too large",
        $"One upload may be at most {Size(limitBytes)}. Upload fewer or smaller files at a time.");

    public static UploadRejectedException BadRequest(string message) =>
        new(StatusCodes.Status400BadRequest, "The upload is not valid", message);

    private static string Size(long bytes) => bytes >= 1024 * 1024
        ? $"{bytes / (1024.0 * 1024):0.#} MiB"
        : $"{bytes / 1024.0:0.#} KiB";
}
