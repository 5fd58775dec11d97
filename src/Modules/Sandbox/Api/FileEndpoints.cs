using System.Security.Claims;
using System.Text.Json.Serialization;
using Conclave.Sandbox.Contracts;
using Conclave.Sessions.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Net.Http.Headers;

namespace Conclave.Sandbox.Api;

/// <param name="Size">In bytes.</param>
/// <param name="Knowledge">For an upload: what became of the file in the session's knowledge (null when it was not added).</param>
internal sealed record FileEntry(
    string Path, long Size, DateTimeOffset Modified, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DocumentIntakeResult? Knowledge = null)
{
    public static FileEntry Of(WorkspaceFile file) => new(file.Path, file.SizeBytes, file.LastModified);
}

/// <summary>The session's workspace files over HTTP: list, upload, download, delete.</summary>
internal static class FileEndpoints
{
    private static readonly FileExtensionContentTypeProvider ContentTypes = new();

    public static void MapFileEndpoints(this IEndpointRouteBuilder endpoints)
    {
        // The filter checks, before any endpoint of the group runs, that the caller owns the session.
        var files = endpoints.MapGroup("/api/v1/sessions/{sessionId:guid}/files")
            .WithTags("Files")
            .RequireAuthorization()
            .AddEndpointFilter<OwnedSessionFilter>()
            .ProducesProblem(StatusCodes.Status404NotFound);

        files.MapGet("", ListAsync).WithName("ListFiles")
            .WithSummary("The session's files with their size in bytes and last change, ordered by path.");
        files.MapPost("", UploadAsync).WithName("UploadFiles")
            .WithSummary("Upload one or more files (multipart/form-data; an optional 'folder' field before them picks the folder). Replaces files of the same name. " +
                "Documents (PDF, DOCX, HTML, Markdown, text, CSV) are also added to the session's knowledge unless the form's 'addToKnowledge' field is false; " +
                "each file's 'knowledge' says what became of it there.")
            .Accepts<UploadFilesRequest>("multipart/form-data")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        files.MapGet("/{**path}", DownloadAsync).WithName("DownloadFile")
            .WithSummary("Download a file, always as an attachment (never rendered on this site).")
            .Produces(StatusCodes.Status200OK, contentType: "application/octet-stream")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        files.MapDelete("/{**path}", DeleteAsync).WithName("DeleteFile")
            .WithSummary("Delete a file (or a folder with everything in it).")
            .ProducesProblem(StatusCodes.Status400BadRequest);
    }

    private static async Task<Ok<IReadOnlyList<FileEntry>>> ListAsync(Guid sessionId, IWorkspace workspace, CancellationToken ct)
    {
        var files = await workspace.ListAsync(sessionId, ct);
        return TypedResults.Ok<IReadOnlyList<FileEntry>>(files.Select(FileEntry.Of).ToList());
    }

    private static async Task<Created<IReadOnlyList<FileEntry>>> UploadAsync(
        Guid sessionId, HttpRequest request, ClaimsPrincipal user, MultipartUpload upload, IWorkspace workspace, IDocumentIntake knowledge, CancellationToken ct)
    {
        var uploaded = await upload.StoreAsync(sessionId, request, ct);
        var entries = new List<FileEntry>();
        foreach (var file in uploaded.Files)
        {
            var entry = FileEntry.Of(file);
            if (uploaded.AddToKnowledge && knowledge.Accepts(file.Path))
            {
                entry = entry with { Knowledge = await AddToKnowledgeAsync(user.OwnerId(), sessionId, file.Path, workspace, knowledge, ct) };
            }

            entries.Add(entry);
        }

        return TypedResults.Created<IReadOnlyList<FileEntry>>($"/api/v1/sessions/{sessionId}/files", entries);
    }

    /// <summary>
    /// Reads the file back at once through the workspace's safe open (code in the sandbox may have
    /// replaced or removed it meanwhile: what is read is what is indexed); the Knowledge module keeps its
    /// own immutable copy from here on.
    /// </summary>
    private static async Task<DocumentIntakeResult> AddToKnowledgeAsync(
        string ownerId, Guid sessionId, string path, IWorkspace workspace, IDocumentIntake knowledge, CancellationToken ct)
    {
        try
        {
            await using var content = await workspace.OpenReadAsync(sessionId, path, ct);
            return await knowledge.AddAsync(ownerId, sessionId, path, content, ct);
        }
        catch (WorkspaceException e)
        {
            return new DocumentIntakeResult(null, null, $"The file could not be read back to add it to knowledge: {e.Message} Upload it again.");
        }
    }

    private static async Task<FileStreamHttpResult> DownloadAsync(
        Guid sessionId, string path, HttpResponse response, IWorkspace workspace, CancellationToken ct)
    {
        var content = await workspace.OpenReadAsync(sessionId, path, ct);
        var name = DownloadName(path);
        // Files come from users and from code an LLM wrote: the browser must save them, never
        // render or sniff them on this origin (an HTML or SVG file could script the app).
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers.ContentSecurityPolicy = "default-src 'none'; sandbox";
        response.Headers.CacheControl = "private, no-cache";
        var contentType = ContentTypes.TryGetContentType(name, out var known) ? known : "application/octet-stream";
        return TypedResults.File(content, contentType, fileDownloadName: name, enableRangeProcessing: true);
    }

    private static async Task<NoContent> DeleteAsync(Guid sessionId, string path, IWorkspace workspace, CancellationToken ct)
    {
        await workspace.DeleteAsync(sessionId, path, ct);
        return TypedResults.NoContent();
    }

    /// <summary>The last segment, without characters that have no place in a header (the framework quotes and encodes the rest).</summary>
    private static string DownloadName(string path)
    {
        var last = path[(path.LastIndexOf('/') + 1)..];
        var safe = new string(last.Select(c => char.IsControl(c) || c is '"' or '\\' ? '_' : c).ToArray()).Trim();
        return safe.Length > 0 ? safe : "download";
    }
}

/// <summary>The shape of an upload, for the OpenAPI document (the endpoint streams the body itself).</summary>
/// <param name="AddToKnowledge">False keeps the documents out of the session's knowledge; by default they go in.</param>
public sealed record UploadFilesRequest(IFormFileCollection Files, string? Folder, bool? AddToKnowledge);
