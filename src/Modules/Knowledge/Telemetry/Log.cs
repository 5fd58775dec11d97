using Microsoft.Extensions.Logging;

namespace Conclave.Knowledge.Telemetry;

internal static partial class Log
{
    [LoggerMessage(LogLevel.Information, "Knowledge schema {Schema} ready (vector({Dimensions}))")]
    public static partial void SchemaReady(ILogger logger, string schema, int dimensions);

    [LoggerMessage(LogLevel.Information, "Document {DocumentId} version {Version} queued in collection {CollectionId} ({Bytes} bytes)")]
    public static partial void DocumentQueued(ILogger logger, Guid documentId, int version, Guid collectionId, long bytes);

    [LoggerMessage(LogLevel.Information, "Document {DocumentId} deleted")]
    public static partial void DocumentDeleted(ILogger logger, Guid documentId);

    [LoggerMessage(LogLevel.Debug, "Nothing to ingest for document {DocumentId} version {Version}: done, replaced, deleted or held by a live node")]
    public static partial void NothingToIngest(ILogger logger, Guid documentId, int version);

    [LoggerMessage(LogLevel.Information, "Document {DocumentId} version {Version} is ready")]
    public static partial void DocumentReady(ILogger logger, Guid documentId, int version);

    [LoggerMessage(LogLevel.Warning, "Document {DocumentId} version {Version} failed: {Reason}")]
    public static partial void DocumentFailed(ILogger logger, Guid documentId, int version, string reason);

    [LoggerMessage(LogLevel.Information, "Document {DocumentId} version {Version} was replaced, deleted or taken over; this node lets go")]
    public static partial void LeaseLost(ILogger logger, Guid documentId, int version);

    [LoggerMessage(LogLevel.Information, "Document {DocumentId} version {Version} is handed on: this node is shutting down")]
    public static partial void HandedOn(ILogger logger, Guid documentId, int version);

    [LoggerMessage(LogLevel.Information, "Document {DocumentId} was deleted while it was indexed")]
    public static partial void DocumentGone(ILogger logger, Guid documentId);

    [LoggerMessage(LogLevel.Error, "Indexing document {DocumentId} version {Version} failed unexpectedly; it will be queued again")]
    public static partial void IngestCrashed(ILogger logger, Exception exception, Guid documentId, int version);

    [LoggerMessage(LogLevel.Warning, "Renewing the lease of document {DocumentId} failed")]
    public static partial void HeartbeatFailed(ILogger logger, Exception exception, Guid documentId);

    [LoggerMessage(LogLevel.Information, "Document {DocumentId} has the content of ready document {TwinId}: {Chunks} chunks copied, not embedded again")]
    public static partial void CopiedTwin(ILogger logger, Guid documentId, Guid twinId, int chunks);

    [LoggerMessage(LogLevel.Information, "Ingest of document {DocumentId} version {Version} was abandoned by its node; queued again")]
    public static partial void Requeued(ILogger logger, Guid documentId, int version);

    [LoggerMessage(LogLevel.Information, "Knowledge of deleted session {SessionId} removed")]
    public static partial void SessionRemoved(ILogger logger, Guid sessionId);
}
