using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Conclave.Sandbox.Contracts;
using Conclave.Sessions.Contracts;
using Conclave.Testing;
using Conclave.Testing.Host;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Conclave.Host.Tests.Sandbox;

/// <summary>A session's files over REST: /api/v1/sessions/{id}/files, owner-checked, bounded, never leaving the workspace.</summary>
public sealed class FileApiTests(ConclaveApp app) : IClassFixture<ConclaveApp>
{
    private const string Secret = "outside-the-workspace";

    [Fact]
    public async Task Uploaded_files_are_listed_downloaded_and_deleted()
    {
        var session = await app.CreateSessionAsync("files");
        var csv = "city,temp\nOslo,3\n"u8.ToArray();
        var png = new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3 };

        var upload = await UploadAsync(session.Id, [("input.csv", csv), ("plot.png", png)], folder: "data");

        Assert.Equal(HttpStatusCode.Created, upload.StatusCode);
        var stored = (await upload.Content.ReadFromJsonAsync<List<FileEntry>>(Json.Options))!;
        Assert.Equal(["data/input.csv", "data/plot.png"], stored.Select(f => f.Path));
        Assert.Equal([csv.Length, png.Length], stored.Select(f => (int)f.Size));

        var listed = (await app.Client.GetFromJsonAsync<List<FileEntry>>(FilesUrl(session.Id), Json.Options))!;
        Assert.Equal(["data/input.csv", "data/plot.png"], listed.Select(f => f.Path));
        Assert.All(listed, f => Assert.True(f.Modified > DateTimeOffset.UtcNow.AddMinutes(-5)));

        var download = await app.Client.GetAsync(FilesUrl(session.Id, "data/input.csv"));
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal(csv, await download.Content.ReadAsByteArrayAsync());
        Assert.Equal("text/csv", download.Content.Headers.ContentType?.MediaType);
        Assert.Equal("attachment", download.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal("input.csv", download.Content.Headers.ContentDisposition?.FileNameStar);
        Assert.Equal("nosniff", Header(download, "X-Content-Type-Options"));
        var image = await app.Client.GetAsync(FilesUrl(session.Id, "data/plot.png"));
        Assert.Equal("image/png", image.Content.Headers.ContentType?.MediaType);
        Assert.Equal(png, await image.Content.ReadAsByteArrayAsync());

        var deleted = await app.Client.DeleteAsync(FilesUrl(session.Id, "data/input.csv"));

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        var after = await app.Client.GetFromJsonAsync<List<FileEntry>>(FilesUrl(session.Id), Json.Options);
        Assert.Equal(["data/plot.png"], after!.Select(f => f.Path));
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client.GetAsync(FilesUrl(session.Id, "data/input.csv"))).StatusCode);
    }

    [Fact]
    public async Task An_upload_with_the_same_name_replaces_the_file()
    {
        var session = await app.CreateSessionAsync();
        await UploadAsync(session.Id, [("notes.md", "first"u8.ToArray())]);

        await UploadAsync(session.Id, [("notes.md", "second"u8.ToArray())]);

        Assert.Equal("second", await app.Client.GetStringAsync(FilesUrl(session.Id, "notes.md")));
        Assert.Single((await app.Client.GetFromJsonAsync<List<FileEntry>>(FilesUrl(session.Id), Json.Options))!);
    }

    [Theory]
    [InlineData("../secret.txt")]
    [InlineData("%2e%2e/secret.txt")]
    [InlineData("%2E%2E%2Fsecret.txt")]
    [InlineData("a/%2e%2e/%2e%2e/secret.txt")]
    [InlineData("%252e%252e%252fsecret.txt")]
    [InlineData("..%5Csecret.txt")]
    [InlineData("%5C..%5Csecret.txt")]
    [InlineData("%2Ftmp%2Fsecret.txt")]
    [InlineData("secret.txt%2500.csv")] // a raw NUL never gets this far: servers refuse it in the path
    public async Task A_path_that_leaves_the_workspace_is_refused_and_nothing_is_read_or_deleted(string rawPath)
    {
        var (session, secret) = await SessionNextToASecretAsync();

        var read = await SendRawAsync(HttpMethod.Get, $"{FilesUrl(session)}/{rawPath}");
        var delete = await SendRawAsync(HttpMethod.Delete, $"{FilesUrl(session)}/{rawPath}");

        foreach (var (status, contentType, body) in new[] { read, delete })
        {
            Assert.True(status == 400, $"Expected 400, got {status}: {body}");
            Assert.StartsWith("application/problem+json", contentType);
            Assert.Contains("not a valid workspace path", body);
            Assert.DoesNotContain(Secret, body);
        }
        Assert.Equal(Secret, await File.ReadAllTextAsync(secret));
    }

    [Theory]
    [InlineData("../secret.txt", null)]
    [InlineData("..\\secret.txt", null)]
    [InlineData("/tmp/secret.txt", null)]
    [InlineData("nul\0.txt", null)]
    [InlineData("secret.txt", "..")]
    [InlineData("secret.txt", "/tmp")]
    [InlineData("secret.txt", "a/%2e%2e/..")]
    public async Task An_upload_that_would_leave_the_workspace_is_refused_and_writes_nothing(string fileName, string? folder)
    {
        var (session, secret) = await SessionNextToASecretAsync();

        var response = await UploadAsync(session, [("fine.txt", "fine"u8.ToArray()), (fileName, "overwritten"u8.ToArray())], folder);

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "not a valid workspace path");
        Assert.Equal(Secret, await File.ReadAllTextAsync(secret));
        var listed = await app.Client.GetFromJsonAsync<List<FileEntry>>(FilesUrl(session), Json.Options);
        Assert.Equal(["existing.txt"], listed!.Select(f => f.Path));
    }

    [Fact]
    public async Task An_upload_over_the_limit_is_refused_with_413_and_stores_nothing()
    {
        var session = await app.CreateSessionAsync();

        var response = await UploadAsync(session.Id, [("big.bin", new byte[ConclaveApp.MaxUploadBytes + 1])]);

        await AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "at most 1 MiB");
        Assert.Empty((await app.Client.GetFromJsonAsync<List<FileEntry>>(FilesUrl(session.Id), Json.Options))!);
    }

    [Fact]
    public async Task A_streamed_upload_that_grows_over_the_limit_is_refused_and_its_earlier_files_are_removed()
    {
        var session = await app.CreateSessionAsync();
        using var form = Form([("small.txt", "small"u8.ToArray()), ("big.bin", new byte[ConclaveApp.MaxUploadBytes])], folder: null);

        // No Content-Length: the limit can only be noticed while the body streams in.
        var response = await app.Client.PostAsync(FilesUrl(session.Id), new WithoutLength(form));

        await AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "at most 1 MiB");
        Assert.Empty((await app.Client.GetFromJsonAsync<List<FileEntry>>(FilesUrl(session.Id), Json.Options))!);
    }

    [Fact]
    public async Task An_upload_without_files_or_not_multipart_is_refused()
    {
        var session = await app.CreateSessionAsync();
        using var onlyFolder = new MultipartFormDataContent { { new StringContent("data"), "folder" } };

        var empty = await app.Client.PostAsync(FilesUrl(session.Id), onlyFolder);
        var json = await app.Client.PostAsJsonAsync(FilesUrl(session.Id), new { path = "x.txt" });

        await AssertProblemAsync(empty, HttpStatusCode.BadRequest, "no file");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, json.StatusCode);
    }

    [Fact]
    public async Task An_unknown_file_is_not_found()
    {
        var session = await app.CreateSessionAsync();
        await UploadAsync(session.Id, [("here.txt", "here"u8.ToArray())]);

        var read = await app.Client.GetAsync(FilesUrl(session.Id, "missing.txt"));
        var delete = await app.Client.DeleteAsync(FilesUrl(session.Id, "missing/deeper.txt"));

        await AssertProblemAsync(read, HttpStatusCode.NotFound, "missing.txt");
        await AssertProblemAsync(delete, HttpStatusCode.NotFound, "missing/deeper.txt");
    }

    [Fact]
    public async Task Another_owners_session_is_not_found_on_every_files_endpoint()
    {
        var sessions = app.Service<ISessions>();
        var theirs = await sessions.CreateAsync("someone-else", "not yours", CancellationToken.None);
        var deleted = await app.CreateSessionAsync("deleted");
        await app.Client.DeleteAsync($"/api/v1/sessions/{deleted.Id}");

        foreach (var sessionId in new[] { theirs.Id, deleted.Id, Guid.NewGuid() })
        {
            var responses = new[]
            {
                await app.Client.GetAsync(FilesUrl(sessionId)),
                await UploadAsync(sessionId, [("planted.txt", "planted"u8.ToArray())]),
                await app.Client.GetAsync(FilesUrl(sessionId, "planted.txt")),
                await app.Client.DeleteAsync(FilesUrl(sessionId, "planted.txt")),
            };

            foreach (var response in responses)
            {
                await AssertProblemAsync(response, HttpStatusCode.NotFound, $"Session {sessionId} was not found");
            }
        }
        Assert.Null(SessionFolder(theirs.Id)); // nothing was written for another owner's session
    }

    [Fact]
    public async Task Deleting_a_session_removes_its_workspace_folder()
    {
        var session = await app.CreateSessionAsync();
        await UploadAsync(session.Id, [("report.md", "# Report"u8.ToArray())], folder: "out");
        var folder = SessionFolder(session.Id)!;
        Assert.True(File.Exists(Path.Combine(folder, "out", "report.md")));

        var deleted = await app.Client.DeleteAsync($"/api/v1/sessions/{session.Id}");

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await Eventually.Until(() => !Directory.Exists(folder) && SessionFolder(session.Id) is null && !WorkspaceMounts.Under(app.WorkspaceRoot).Contains(folder),
            TimeSpan.FromSeconds(15), "the session's workspace (its file system and its folder) is removed after the session is deleted");
    }

    [Fact]
    public async Task Files_written_by_code_are_listed_and_deleting_the_session_removes_its_container()
    {
        var session = await app.CreateSessionAsync("sandboxed");
        var result = await app.Service<ISandbox>().ExecuteAsync(
            session.Id, "open('from-code.txt', 'w').write('written in the sandbox')", TimeSpan.FromSeconds(60));
        Assert.True(result.Status == ExecutionStatus.Ok, $"{result.Error?.Name}: {result.Error?.Value}");
        Assert.Single(await NodeContainersAsync());
        // The container's limits were checked from inside before it ran anything; readiness says so.
        var ready = await app.Client.GetStringAsync("/health/ready");
        Assert.Contains("Every sandbox limit is enforced", ready, StringComparison.Ordinal);

        Assert.Equal("written in the sandbox", await app.Client.GetStringAsync(FilesUrl(session.Id, "from-code.txt")));
        var folder = SessionFolder(session.Id)!;
        await app.Client.DeleteAsync($"/api/v1/sessions/{session.Id}");

        await Eventually.Until(async () => (await NodeContainersAsync()).Count == 0 && !Directory.Exists(folder) && SessionFolder(session.Id) is null,
            TimeSpan.FromSeconds(30), "the deleted session's container and workspace folder are removed");
    }

    [Theory]
    [InlineData("page.html", "text/html")]
    [InlineData("image.svg", "image/svg+xml")]
    public async Task Html_and_svg_download_as_sandboxed_attachments(string name, string contentType)
    {
        var session = await app.CreateSessionAsync();
        await UploadAsync(session.Id, [(name, "<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(document.cookie)</script></svg>"u8.ToArray())]);

        var download = await app.Client.GetAsync(FilesUrl(session.Id, name));

        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal(contentType, download.Content.Headers.ContentType?.MediaType);
        Assert.Equal("attachment", download.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal(name, download.Content.Headers.ContentDisposition?.FileNameStar);
        Assert.Equal("nosniff", Header(download, "X-Content-Type-Options"));
        Assert.Contains("sandbox", Header(download, "Content-Security-Policy"));
    }

    [Fact]
    public async Task A_name_with_quotes_and_unicode_downloads_under_a_safe_header()
    {
        var session = await app.CreateSessionAsync();
        const string Name = "résumé \"final\".txt";
        await UploadAsync(session.Id, [(Name, "cv"u8.ToArray())]);

        var download = await app.Client.GetAsync(FilesUrl(session.Id, Name));

        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal("résumé _final_.txt", download.Content.Headers.ContentDisposition?.FileNameStar);
        Assert.Equal("cv", await download.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_openapi_document_describes_the_files_api()
    {
        using var document = JsonDocument.Parse(await app.Client.GetStringAsync("/openapi/v1.json"));

        var paths = document.RootElement.GetProperty("paths");
        var files = paths.GetProperty("/api/v1/sessions/{sessionId}/files");
        var file = paths.GetProperty("/api/v1/sessions/{sessionId}/files/{path}");
        Assert.Contains("size in bytes", files.GetProperty("get").GetProperty("summary").GetString());
        Assert.True(files.GetProperty("post").GetProperty("requestBody").GetProperty("content").TryGetProperty("multipart/form-data", out _), files.ToString());
        Assert.Contains("attachment", file.GetProperty("get").GetProperty("summary").GetString());
        Assert.True(file.TryGetProperty("delete", out _));
    }

    /// <summary>A session with one file, and a secret file in the folder that holds the sessions' folders.</summary>
    private async Task<(Guid Session, string Secret)> SessionNextToASecretAsync()
    {
        var session = await app.CreateSessionAsync();
        await UploadAsync(session.Id, [("existing.txt", "existing"u8.ToArray())]);
        var secret = Path.Combine(app.WorkspaceRoot, "secret.txt");
        await File.WriteAllTextAsync(secret, Secret);
        return (session.Id, secret);
    }

    /// <summary>The containers of this Host's sandbox node, as the engine lists them.</summary>
    private async Task<IList<ContainerListResponse>> NodeContainersAsync()
    {
        var endpoint = app.Service<IOptions<SandboxOptions>>().Value.DockerEndpoint;
        using var docker = new DockerClientBuilder().WithEndpoint(new Uri(endpoint)).Build();
        return await docker.Containers.ListContainersAsync(new ContainersListParameters
        {
            All = true,
            Filters = new Dictionary<string, IDictionary<string, bool>>
            {
                ["label"] = new Dictionary<string, bool> { [$"conclave.node={app.SandboxNodeId}"] = true },
            },
        });
    }

    private string? SessionFolder(Guid sessionId) => WorkspaceMounts.SessionFolder(app.WorkspaceRoot, sessionId);

    private static string FilesUrl(Guid sessionId, string? path = null) =>
        path is null
            ? $"/api/v1/sessions/{sessionId}/files"
            : $"/api/v1/sessions/{sessionId}/files/{string.Join('/', path.Split('/').Select(Uri.EscapeDataString))}";

    private Task<HttpResponseMessage> UploadAsync(Guid sessionId, (string Name, byte[] Content)[] files, string? folder = null)
    {
        var form = Form(files, folder);
        return app.Client.PostAsync(FilesUrl(sessionId), form);
    }

    private static MultipartFormDataContent Form((string Name, byte[] Content)[] files, string? folder)
    {
        var form = new MultipartFormDataContent();
        if (folder is not null)
        {
            form.Add(new StringContent(folder), "folder");
        }
        foreach (var (name, content) in files)
        {
            // Written by hand: HttpClient refuses names with quotes or control characters, which clients can still send.
            var part = new ByteArrayContent(content);
            part.Headers.TryAddWithoutValidation("Content-Disposition", $"form-data; name=\"files\"; filename*=UTF-8''{Uri.EscapeDataString(name)}");
            form.Add(part);
        }
        return form;
    }

    /// <summary>
    /// Sends the path as a server hands it to the app after percent-decoding (all but %2F), without
    /// removing dot segments: Kestrel removes them before routing, but the endpoints must not rely on that.
    /// </summary>
    private async Task<(int Status, string ContentType, string Body)> SendRawAsync(HttpMethod method, string rawPath)
    {
        var context = await app.Factory.Server.SendAsync(c =>
        {
            c.Request.Method = method.Method;
            c.Request.Path = PathString.FromUriComponent(rawPath);
            c.Request.Headers.Authorization = app.Client.DefaultRequestHeaders.Authorization!.ToString();
        });
        using var body = new StreamReader(context.Response.Body);
        return (context.Response.StatusCode, context.Response.ContentType ?? "", await body.ReadToEndAsync());
    }

    private static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values)
            ? string.Join(", ", values)
            : "";

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string detailContains)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"Expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(body);
        Assert.Contains(detailContains, problem.RootElement.GetProperty("detail").GetString());
    }

    private sealed record FileEntry(string Path, long Size, DateTimeOffset Modified);

    /// <summary>The same body, sent chunked (without a Content-Length).</summary>
    private sealed class WithoutLength : HttpContent
    {
        private readonly HttpContent _inner;

        public WithoutLength(HttpContent inner)
        {
            _inner = inner;
            Headers.ContentType = inner.Headers.ContentType;
        }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => _inner.CopyToAsync(stream);

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
