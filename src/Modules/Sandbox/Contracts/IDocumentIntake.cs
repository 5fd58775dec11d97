namespace Conclave.Sandbox.Contracts;

/// <summary>
/// Where documents a user uploads to a session's files go besides the workspace: into the session's
/// knowledge ("add to knowledge", on by default for document types). The Host connects it to the
/// Knowledge module; on its own the Sandbox module has none (<see cref="Accepts"/> is always false).
/// </summary>
public interface IDocumentIntake
{
    /// <summary>True for the file types added to knowledge (PDF, DOCX, HTML, Markdown, text, CSV).</summary>
    bool Accepts(string path);

    /// <summary>
    /// Adds the uploaded content of <paramref name="path"/> to the session's knowledge. What a user can
    /// fix (a limit, a name) comes back as <see cref="DocumentIntakeResult.Problem"/>, never as an exception:
    /// the file is in the workspace either way.
    /// </summary>
    Task<DocumentIntakeResult> AddAsync(string ownerId, Guid sessionId, string path, Stream content, CancellationToken ct);
}

/// <param name="DocumentId">The knowledge document the file became (an existing one when its content was there already).</param>
/// <param name="State">Its state when the upload answered (Queued, or Ready for known content).</param>
/// <param name="Problem">Why the file was not added, and what to do.</param>
public sealed record DocumentIntakeResult(Guid? DocumentId, string? State, string? Problem);
