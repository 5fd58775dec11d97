using System.Text;
using Conclave.Sandbox.Contracts;
using Conclave.Sandbox.Telemetry;
using Conclave.Sandbox.Workspaces;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Conclave.Sandbox.Api;

/// <summary>
/// Streams the files of a multipart/form-data upload into a session's workspace one part at a time,
/// so a file is never held in memory whole. An optional <c>folder</c> field, sent before the files,
/// puts them in that folder; an optional <c>addToKnowledge</c> field (true or false, anywhere in the
/// form) says whether documents among them go into the session's knowledge too (by default they do).
/// An upload is all or nothing: when one part fails, the files this upload had already created are
/// deleted again.
/// </summary>
internal sealed class MultipartUpload(IWorkspace workspace, IOptions<SandboxOptions> options, ILogger<MultipartUpload> logger)
{
    public const string FolderField = "folder";
    public const string AddToKnowledgeField = "addToKnowledge";
    private const int MaxFolderLength = 1024;
    private const int MaxBoundaryLength = 70;

    public async Task<UploadedFiles> StoreAsync(Guid sessionId, HttpRequest request, CancellationToken ct)
    {
        var limit = options.Value.MaxUploadBytes;
        var boundary = BoundaryOf(request.ContentType);
        if (request.ContentLength > limit)
        {
            throw UploadRejectedException.TooLarge(limit);
        }
        // The server-wide body limit (Kestrel: 30 MB) gives way to this upload's own, which the
        // counting stream below enforces exactly on every server, with or without a Content-Length.
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
        {
            bodySize.MaxRequestBodySize = null;
        }

        var reader = new MultipartReader(boundary, new LimitedBody(request.Body, limit));
        var folder = "";
        bool? addToKnowledge = null;
        var stored = new List<WorkspaceFile>();
        var created = new List<string>();
        HashSet<string>? existing = null;
        try
        {
            while (await NextSectionAsync(reader, ct) is { } section)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition))
                {
                    continue;
                }
                if (disposition.IsFileDisposition())
                {
                    var name = FileNameOf(disposition);
                    if (name.Length == 0)
                    {
                        continue; // a browser form's empty file input
                    }
                    var path = folder.Length == 0 ? name : $"{folder}/{name}";
                    // A bad name is refused before a byte of its content is read.
                    WorkspacePath.Parse(path);
                    existing ??= (await workspace.ListAsync(sessionId, ct)).Select(f => f.Path).ToHashSet(StringComparer.Ordinal);
                    var file = await workspace.WriteAsync(sessionId, path, section.Body, ct);
                    stored.Add(file);
                    if (!existing.Contains(file.Path))
                    {
                        created.Add(file.Path);
                    }
                }
                else if (disposition.IsFormDisposition() && HeaderUtilities.RemoveQuotes(disposition.Name).Equals(FolderField, StringComparison.Ordinal))
                {
                    if (stored.Count > 0)
                    {
                        throw UploadRejectedException.BadRequest($"Send the '{FolderField}' field before the files it applies to.");
                    }
                    folder = await ReadFolderAsync(section.Body, ct);
                }
                else if (disposition.IsFormDisposition() && HeaderUtilities.RemoveQuotes(disposition.Name).Equals(AddToKnowledgeField, StringComparison.Ordinal))
                {
                    addToKnowledge = await ReadSwitchAsync(section.Body, ct);
                }
            }
        }
        catch when (created.Count > 0)
        {
            await DeleteCreatedAsync(sessionId, created);
            throw;
        }

        if (stored.Count == 0)
        {
            throw UploadRejectedException.BadRequest("The upload holds no file: send one or more files as multipart/form-data parts with a file name.");
        }
        Log.FilesUploaded(logger, sessionId, stored.Count, stored.Sum(f => f.SizeBytes));
        return new UploadedFiles(stored, addToKnowledge ?? true);
    }

    private static string BoundaryOf(string? contentType)
    {
        if (!MediaTypeHeaderValue.TryParse(contentType, out var media)
            || !media.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            throw UploadRejectedException.BadRequest("Send the files as multipart/form-data.");
        }
        var boundary = HeaderUtilities.RemoveQuotes(media.Boundary).Value;
        if (string.IsNullOrWhiteSpace(boundary) || boundary.Length > MaxBoundaryLength)
        {
            throw UploadRejectedException.BadRequest("The multipart/form-data content type needs a boundary of 1 to 70 characters.");
        }
        return boundary;
    }

    private static async Task<MultipartSection?> NextSectionAsync(MultipartReader reader, CancellationToken ct)
    {
        try
        {
            return await reader.ReadNextSectionAsync(ct);
        }
        catch (Exception e) when (e is InvalidDataException or IOException && !ct.IsCancellationRequested)
        {
            throw UploadRejectedException.BadRequest("The upload is not well-formed multipart/form-data; send it again.");
        }
    }

    /// <summary>The client's file name (RFC 5987 <c>filename*</c> first); it may name sub-folders.</summary>
    private static string FileNameOf(ContentDispositionHeaderValue disposition)
    {
        var name = disposition.FileNameStar.HasValue ? disposition.FileNameStar : HeaderUtilities.RemoveQuotes(disposition.FileName);
        return name.Value ?? "";
    }

    private static async Task<string> ReadFolderAsync(Stream body, CancellationToken ct)
    {
        using var text = new StreamReader(body, Encoding.UTF8, leaveOpen: true);
        var buffer = new char[MaxFolderLength + 1];
        var read = await text.ReadBlockAsync(buffer.AsMemory(), ct);
        if (read > MaxFolderLength)
        {
            throw UploadRejectedException.BadRequest($"The '{FolderField}' field is longer than {MaxFolderLength} characters.");
        }
        var folder = new string(buffer, 0, read).Trim().TrimEnd('/');
        if (folder.Length > 0)
        {
            WorkspacePath.Parse(folder);
        }
        return folder;
    }

    private static async Task<bool> ReadSwitchAsync(Stream body, CancellationToken ct)
    {
        using var text = new StreamReader(body, Encoding.UTF8, leaveOpen: true);
        var buffer = new char[8];
        var read = await text.ReadBlockAsync(buffer.AsMemory(), ct);
        return bool.TryParse(new string(buffer, 0, read).Trim(), out var value)
            ? value
            : throw UploadRejectedException.BadRequest($"The '{AddToKnowledgeField}' field must be true or false.");
    }

    private async Task DeleteCreatedAsync(Guid sessionId, IEnumerable<string> paths)
    {
        foreach (var path in paths.Distinct())
        {
            try
            {
                await workspace.DeleteAsync(sessionId, path, CancellationToken.None);
            }
            catch (WorkspaceException)
            {
                // Already gone (deleted meanwhile, or by code in the sandbox).
            }
        }
    }

    /// <summary>A request body that throws once more than <c>limit</c> bytes have been read from it.</summary>
    private sealed class LimitedBody(Stream inner, long limit) : Stream
    {
        private long _total;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => _total;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

        public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Count(await inner.ReadAsync(buffer.AsMemory(offset, count), cancellationToken));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Count(await inner.ReadAsync(buffer, cancellationToken));

        private int Count(int read)
        {
            _total += read;
            if (_total > limit)
            {
                throw UploadRejectedException.TooLarge(limit);
            }
            return read;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

/// <param name="AddToKnowledge">The upload's <c>addToKnowledge</c> field; true when it had none.</param>
internal sealed record UploadedFiles(IReadOnlyList<WorkspaceFile> Files, bool AddToKnowledge);
