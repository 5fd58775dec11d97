using System.Security.Claims;
using Conclave.Knowledge.Contracts;
using Conclave.Knowledge.Documents;
using Conclave.Sessions.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Conclave.Knowledge.Api;

/// <summary>Libraries, a session's collection, documents and search under /api/v1.</summary>
internal static class KnowledgeEndpoints
{
    public static void MapKnowledgeEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var knowledge = endpoints.MapGroup("/api/v1/knowledge").WithTags("Knowledge").RequireAuthorization()
            .ProducesProblem(StatusCodes.Status404NotFound);

        knowledge.MapGet("/libraries", (ClaimsPrincipal user, IKnowledgeCollections collections, CancellationToken ct) =>
                collections.ListLibrariesAsync(user.OwnerId(), ct))
            .WithName("ListLibraries").WithSummary("The caller's libraries by name.");
        knowledge.MapPost("/libraries", CreateLibraryAsync).WithName("CreateLibrary")
            .WithSummary("Create a named library (name 1-200 characters).").ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status409Conflict);
        knowledge.MapGet("/libraries/{libraryId:guid}", GetLibraryAsync).WithName("GetLibrary");
        knowledge.MapPut("/libraries/{libraryId:guid}", (Guid libraryId, LibraryRequest body, ClaimsPrincipal user, IKnowledgeCollections collections, CancellationToken ct) =>
                collections.UpdateLibraryAsync(user.OwnerId(), libraryId, body.Name, body.Description, ct))
            .WithName("UpdateLibrary").WithSummary("Rename a library or change its description.").ProducesProblem(StatusCodes.Status400BadRequest);
        knowledge.MapDelete("/libraries/{libraryId:guid}", async (Guid libraryId, ClaimsPrincipal user, IKnowledgeCollections collections, CancellationToken ct) =>
            {
                await collections.DeleteLibraryAsync(user.OwnerId(), libraryId, ct);
                return TypedResults.NoContent();
            })
            .WithName("DeleteLibrary").WithSummary("Delete a library with its documents; they leave search at once.");
        knowledge.MapPut("/libraries/{libraryId:guid}/attachments/{target}/{targetId:guid}",
                (Guid libraryId, AttachmentTarget target, Guid targetId, ClaimsPrincipal user, IKnowledgeCollections collections, CancellationToken ct) =>
                    collections.AttachAsync(user.OwnerId(), libraryId, new CollectionAttachment(target, targetId), ct))
            .WithName("AttachLibrary").WithSummary("Attach a library to a team (Team) or a session (Session): their runs search it.");
        knowledge.MapDelete("/libraries/{libraryId:guid}/attachments/{target}/{targetId:guid}",
                (Guid libraryId, AttachmentTarget target, Guid targetId, ClaimsPrincipal user, IKnowledgeCollections collections, CancellationToken ct) =>
                    collections.DetachAsync(user.OwnerId(), libraryId, new CollectionAttachment(target, targetId), ct))
            .WithName("DetachLibrary");

        knowledge.MapGet("/collections/{collectionId:guid}/documents", (Guid collectionId, ClaimsPrincipal user, IKnowledgeDocuments documents, CancellationToken ct) =>
                documents.ListAsync(user.OwnerId(), collectionId, ct))
            .WithName("ListDocuments").WithSummary("The documents of a collection (a library or a session's) with their state.");
        knowledge.MapPost("/collections/{collectionId:guid}/documents", UploadAsync)
            .WithName("UploadDocument")
            .WithSummary("Upload one document (multipart/form-data, one file part) into a collection; it is indexed in the background. 201: queued; 200: this content is already there.")
            .Accepts<UploadDocumentRequest>("multipart/form-data")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        knowledge.MapGet("/documents/{documentId:guid}", GetDocumentAsync).WithName("GetDocument")
            .WithSummary("A document's state: Queued, Extracting, Embedding (chunksEmbedded of chunksTotal), Ready or Failed (with the reason).");
        knowledge.MapGet("/documents/{documentId:guid}/text", (Guid documentId, ClaimsPrincipal user, IKnowledgeDocuments documents, CancellationToken ct) =>
                documents.ReadTextAsync(user.OwnerId(), documentId, ct))
            .WithName("GetDocumentText")
            .WithSummary("The text search holds for a document, in sections by page and heading: what a citation opens. Empty until it is ready.");
        knowledge.MapGet("/documents/{documentId:guid}/content", DownloadAsync).WithName("DownloadDocument")
            .WithSummary("The document as uploaded, always as an attachment (never rendered on this origin).")
            .Produces(StatusCodes.Status200OK, contentType: "application/octet-stream");
        knowledge.MapDelete("/documents/{documentId:guid}", async (Guid documentId, ClaimsPrincipal user, IKnowledgeDocuments documents, CancellationToken ct) =>
            {
                await documents.DeleteAsync(user.OwnerId(), documentId, ct);
                return TypedResults.NoContent();
            })
            .WithName("DeleteDocument").WithSummary("Delete a document; its chunks leave search at once.");
        knowledge.MapPost("/search", SearchAsync).WithName("SearchKnowledge")
            .WithSummary("Hybrid search (vector + full text, fused by reciprocal rank) in the given collections, or in what a session (and team) sees.")
            .ProducesProblem(StatusCodes.Status400BadRequest);

        var session = endpoints.MapGroup("/api/v1/sessions/{sessionId:guid}/knowledge").WithTags("Knowledge").RequireAuthorization()
            .ProducesProblem(StatusCodes.Status404NotFound);
        session.MapGet("", GetSessionCollectionAsync).WithName("GetSessionCollection")
            .WithSummary("The session's own collection (404 until its first document), with the libraries the session sees.");
        session.MapPost("/documents", UploadToSessionAsync).WithName("UploadSessionDocument")
            .WithSummary("Upload one document into the session's collection (created with its first document).")
            .Accepts<UploadDocumentRequest>("multipart/form-data")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);
    }

    private static async Task<Created<KnowledgeCollection>> CreateLibraryAsync(
        LibraryRequest body, ClaimsPrincipal user, IKnowledgeCollections collections, CancellationToken ct)
    {
        var library = await collections.CreateLibraryAsync(user.OwnerId(), body.Name, body.Description, ct);
        return TypedResults.Created($"/api/v1/knowledge/libraries/{library.Id}", library);
    }

    private static async Task<Ok<KnowledgeCollection>> GetLibraryAsync(Guid libraryId, ClaimsPrincipal user, IKnowledgeCollections collections, CancellationToken ct) =>
        TypedResults.Ok(await collections.FindAsync(user.OwnerId(), libraryId, ct) is { Kind: CollectionKind.Library } library
            ? library
            : throw new KnowledgeNotFoundException("Library", libraryId));

    private static async Task<Ok<KnowledgeDocument>> GetDocumentAsync(Guid documentId, ClaimsPrincipal user, IKnowledgeDocuments documents, CancellationToken ct) =>
        TypedResults.Ok(await documents.FindAsync(user.OwnerId(), documentId, ct) ?? throw new KnowledgeNotFoundException("Document", documentId));

    /// <summary>
    /// A user's file is never active content on our origin: it is an opaque download, the browser may not
    /// sniff it into HTML, and were it shown anyway, a sandboxing policy leaves it without script or origin.
    /// </summary>
    private static async Task<IResult> DownloadAsync(Guid documentId, HttpContext http, IKnowledgeDocuments documents, CancellationToken ct)
    {
        var content = await documents.ReadContentAsync(http.User.OwnerId(), documentId, ct);
        var headers = http.Response.Headers;
        headers.XContentTypeOptions = "nosniff";
        headers.ContentSecurityPolicy = "sandbox; default-src 'none'";
        headers.CacheControl = "private, no-store";
        return TypedResults.File(content.Bytes.ToArray(), "application/octet-stream", content.Document.Name);
    }

    private static async Task<Ok<SessionKnowledge>> GetSessionCollectionAsync(
        Guid sessionId, ClaimsPrincipal user, IKnowledgeCollections collections, ISessions sessions, CancellationToken ct)
    {
        var owner = user.OwnerId();
        var summary = await sessions.FindAsync(owner, sessionId, ct) ?? throw new KnowledgeNotFoundException("Session", sessionId);
        var collection = await collections.FindForSessionAsync(owner, sessionId, ct)
            ?? throw new KnowledgeNotFoundException("Collection of session", sessionId);
        return TypedResults.Ok(new SessionKnowledge(collection, await collections.VisibleAsync(owner, sessionId, summary.TeamId, ct)));
    }

    private static async Task<Results<Created<KnowledgeDocument>, Ok<KnowledgeDocument>>> UploadAsync(
        Guid collectionId, HttpRequest request, ClaimsPrincipal user, IKnowledgeDocuments documents, IOptions<KnowledgeOptions> options, CancellationToken ct) =>
        await StoreAsync(collectionId, request, user.OwnerId(), documents, options.Value, ct);

    private static async Task<Results<Created<KnowledgeDocument>, Ok<KnowledgeDocument>>> UploadToSessionAsync(
        Guid sessionId, HttpRequest request, ClaimsPrincipal user, IKnowledgeCollections collections, IKnowledgeDocuments documents,
        IOptions<KnowledgeOptions> options, CancellationToken ct)
    {
        var collection = await collections.ForSessionAsync(user.OwnerId(), sessionId, ct);
        return await StoreAsync(collection.Id, request, user.OwnerId(), documents, options.Value, ct);
    }

    private static async Task<Results<Created<KnowledgeDocument>, Ok<KnowledgeDocument>>> StoreAsync(
        Guid collectionId, HttpRequest request, string ownerId, IKnowledgeDocuments documents, KnowledgeOptions options, CancellationToken ct)
    {
        var limit = options.Limits.MaxDocumentBytes;
        // The multipart framing around the file: boundaries and part headers.
        const long Framing = 64 * 1024;
        if (request.ContentLength > limit + Framing)
        {
            throw DocumentStore.TooLarge(limit);
        }

        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
        {
            bodySize.MaxRequestBodySize = limit + Framing;
        }

        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var media)
            || !media.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase)
            || HeaderUtilities.RemoveQuotes(media.Boundary).Value is not { Length: > 0 and <= 70 } boundary)
        {
            throw new KnowledgeValidationException("file", "Send the document as multipart/form-data with one file part.");
        }

        var reader = new MultipartReader(boundary, request.Body);
        try
        {
            while (await reader.ReadNextSectionAsync(ct) is { } section)
            {
                if (ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition) && disposition.IsFileDisposition())
                {
                    var name = disposition.FileNameStar.HasValue ? disposition.FileNameStar.Value : HeaderUtilities.RemoveQuotes(disposition.FileName).Value;
                    var added = await documents.AddAsync(ownerId, collectionId, name ?? "", section.Body, ct);
                    return added.Created
                        ? TypedResults.Created($"/api/v1/knowledge/documents/{added.Document.Id}", added.Document)
                        : TypedResults.Ok(added.Document);
                }
            }
        }
        catch (Exception e) when (e is InvalidDataException or IOException && !ct.IsCancellationRequested)
        {
            throw new KnowledgeValidationException("file", "The upload is not well-formed multipart/form-data; send it again.");
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw DocumentStore.TooLarge(limit);
        }

        throw new KnowledgeValidationException("file", "The upload holds no file: send the document as a multipart/form-data part with a file name.");
    }

    private static async Task<Ok<IReadOnlyList<KnowledgeHit>>> SearchAsync(
        SearchKnowledgeRequest body, ClaimsPrincipal user, IKnowledgeCollections collections, IKnowledgeSearch search, CancellationToken ct)
    {
        var owner = user.OwnerId();
        IReadOnlyList<Guid> scope = body.CollectionIds is { Count: > 0 } ids
            ? ids
            : body.SessionId is not null || body.TeamId is not null
                ? await collections.VisibleAsync(owner, body.SessionId, body.TeamId, ct)
                : throw new KnowledgeValidationException("collectionIds", "Name the collections to search (collectionIds), or a sessionId and/or teamId whose knowledge to search.");
        var hits = await search.SearchAsync(new KnowledgeQuery(owner, scope, body.Query ?? "", body.TopK ?? 5, body.Mode ?? RetrievalMode.Hybrid), ct);
        return TypedResults.Ok(hits);
    }
}

public sealed record LibraryRequest(string Name, string? Description);

/// <param name="CollectionIds">Collections to search (the caller's own; others match nothing).</param>
/// <param name="SessionId">Instead of collectionIds: what this session sees (its collection and the libraries attached to it or to <paramref name="TeamId"/>).</param>
/// <param name="TopK">1 to 50; 5 when left out.</param>
public sealed record SearchKnowledgeRequest(string? Query, IReadOnlyList<Guid>? CollectionIds, Guid? SessionId, Guid? TeamId, int? TopK, RetrievalMode? Mode);

/// <summary>The shape of an upload, for the OpenAPI document (the endpoint streams the body itself).</summary>
public sealed record UploadDocumentRequest(IFormFile File);

/// <param name="Visible">Every collection a run in this session searches (with the session's current team).</param>
internal sealed record SessionKnowledge(KnowledgeCollection Collection, IReadOnlyList<Guid> Visible);
