using Conclave.Knowledge.Contracts;
using Conclave.Sandbox.Contracts;

namespace Conclave.Host.Composition;

/// <summary>
/// Connects the session files upload (Sandbox) to the session's knowledge (Knowledge): a document
/// uploaded with "add to knowledge" goes into the session's collection, made with its first document.
/// Each module sees only the other's contracts through this one class.
/// </summary>
internal sealed class SessionKnowledgeIntake(
    IKnowledgeCollections collections, IKnowledgeDocuments documents, ILogger<SessionKnowledgeIntake> logger) : IDocumentIntake
{
    public bool Accepts(string path) => KnowledgeDocumentTypes.IsDocument(path);

    public async Task<DocumentIntakeResult> AddAsync(string ownerId, Guid sessionId, string path, Stream content, CancellationToken ct)
    {
        try
        {
            var collection = await collections.ForSessionAsync(ownerId, sessionId, ct);
            var added = await documents.AddAsync(ownerId, collection.Id, path, content, ct);
            return new DocumentIntakeResult(added.Document.Id, added.Document.State.ToString(), null);
        }
        catch (Exception e) when (e is KnowledgeLimitException or KnowledgeValidationException)
        {
            return new DocumentIntakeResult(null, null, e.Message);
        }
        catch (Exception e) when (e is not OperationCanceledException and not KnowledgeNotFoundException)
        {
            // The file is stored already: the upload stands, and says the document is not in knowledge.
            logger.LogError(e, "Adding {Path} of session {SessionId} to knowledge failed", path, sessionId);
            return new DocumentIntakeResult(null, null, "The file is saved, but it could not be added to knowledge. Upload it again in a moment.");
        }
    }
}

internal static class ModuleConnections
{
    /// <summary>Where one module's contract is served by another's: the Host's composition, in one place.</summary>
    public static IServiceCollection ConnectModules(this IServiceCollection services)
    {
        services.AddSingleton<IDocumentIntake, SessionKnowledgeIntake>();
        return services;
    }
}
