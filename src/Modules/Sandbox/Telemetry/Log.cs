using Microsoft.Extensions.Logging;

namespace Conclave.Sandbox.Telemetry;

internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Sandbox container {ContainerName} started for session {SessionId} ({Path}) in {ElapsedMs} ms")]
    public static partial void ContainerStarted(ILogger logger, string containerName, Guid? sessionId, string path, long elapsedMs);

    [LoggerMessage(2, LogLevel.Debug, "Execution started in session {SessionId}")]
    public static partial void ExecutionStarted(ILogger logger, Guid sessionId);

    [LoggerMessage(3, LogLevel.Information, "Execution finished in session {SessionId}: {Status} in {ElapsedMs} ms")]
    public static partial void ExecutionFinished(ILogger logger, Guid sessionId, string status, long elapsedMs);

    [LoggerMessage(4, LogLevel.Warning, "Execution in session {SessionId} killed: {Reason}")]
    public static partial void ExecutionKilled(ILogger logger, Guid sessionId, string reason);

    [LoggerMessage(5, LogLevel.Information, "Sandbox container {ContainerName} of session {SessionId} reaped: {Reason}")]
    public static partial void ContainerReaped(ILogger logger, string containerName, Guid? sessionId, string reason);

    [LoggerMessage(6, LogLevel.Information, "Removed orphaned sandbox container {ContainerName} (session {SessionLabel})")]
    public static partial void OrphanRemoved(ILogger logger, string containerName, string sessionLabel);

    [LoggerMessage(7, LogLevel.Warning, "Could not start a warm sandbox container")]
    public static partial void WarmStartFailed(ILogger logger, Exception exception);

    [LoggerMessage(8, LogLevel.Warning, "Sandbox janitor pass failed")]
    public static partial void JanitorFailed(ILogger logger, Exception exception);

    [LoggerMessage(9, LogLevel.Warning, "Could not remove sandbox container {ContainerName}")]
    public static partial void RemoveFailed(ILogger logger, Exception exception, string containerName);

    [LoggerMessage(10, LogLevel.Warning, "Reading from sandbox container {ContainerName} failed")]
    public static partial void BridgeReadFailed(ILogger logger, Exception exception, string containerName);

    [LoggerMessage(11, LogLevel.Warning, "Sandbox container {ContainerName} sent a line that is not JSON")]
    public static partial void BridgeSentGarbage(ILogger logger, Exception exception, string containerName);

    [LoggerMessage(12, LogLevel.Debug, "{ContainerName}: {Line}")]
    public static partial void BridgeStderr(ILogger logger, string containerName, string line);

    [LoggerMessage(14, LogLevel.Information, "Session {SessionId} removed with its workspace")]
    public static partial void SessionRemoved(ILogger logger, Guid sessionId);


    [LoggerMessage(16, LogLevel.Information, "Uploaded {FileCount} files ({Bytes} bytes) to session {SessionId}")]
    public static partial void FilesUploaded(ILogger logger, Guid sessionId, int fileCount, long bytes);

    [LoggerMessage(16, LogLevel.Warning, "Could not remove workspace volume {VolumeId}")]
    public static partial void VolumeRemoveFailed(ILogger logger, Exception exception, string volumeId);

    [LoggerMessage(17, LogLevel.Warning, "Sandbox {ContainerName} runs WITHOUT these limits (AllowUnlimitedSandboxes is on): {Missing}")]
    public static partial void SandboxUnlimited(ILogger logger, string containerName, string missing);

    [LoggerMessage(18, LogLevel.Error, "Sandbox {ContainerName} refused: the engine does not enforce {Missing}")]
    public static partial void SandboxRefused(ILogger logger, string containerName, string missing);

    [LoggerMessage(19, LogLevel.Warning, "Could not start a warm sandbox: {Reason}")]
    public static partial void WarmStartRefused(ILogger logger, string reason);
}
