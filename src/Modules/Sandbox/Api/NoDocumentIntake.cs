using Conclave.Sandbox.Contracts;

namespace Conclave.Sandbox.Api;

/// <summary>No knowledge to add documents to (the Sandbox module without the Host's composition).</summary>
internal sealed class NoDocumentIntake : IDocumentIntake
{
    public bool Accepts(string path) => false;

    public Task<DocumentIntakeResult> AddAsync(string ownerId, Guid sessionId, string path, Stream content, CancellationToken ct) =>
        Task.FromResult(new DocumentIntakeResult(null, null, "Knowledge is not available in this installation."));
}
