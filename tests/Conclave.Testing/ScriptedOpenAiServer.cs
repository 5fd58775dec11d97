using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Conclave.Testing;

/// <summary>
/// A real OpenAI-compatible HTTP server on loopback that answers from a script, standing in for an LLM
/// provider so the application's provider code (Semantic Kernel, the OpenAI SDK) and HTTP stack run
/// for real. Replies are consumed in order by successive chat completion requests; when the queue is
/// empty the responder (default: the text "ok") answers. Thread-safe.
/// </summary>
public sealed class ScriptedOpenAiServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<Reply> _script = new();
    private readonly Arrivals<RecordedRequest> _requests = new("Request");
    private readonly Arrivals<RecordedRequest> _disconnects = new("Client disconnect");
    private readonly CancellationTokenSource _stopping = new();
    private volatile Func<RecordedRequest, Reply> _responder = _ => Reply.Text("ok");
    private int _disposed;

    private ScriptedOpenAiServer(WebApplication app)
    {
        _app = app;
        _app.Run(HandleAsync);
    }

    /// <summary>The API base address, e.g. <c>http://127.0.0.1:PORT/v1/</c>, for a client's endpoint setting.</summary>
    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>The gate that <see cref="Reply.Gated"/> replies without a gate of their own wait on.</summary>
    public ChunkGate Gate { get; } = new();

    /// <summary>Model ids listed by <c>GET /v1/models</c>.</summary>
    public IReadOnlyList<string> ModelIds { get; set; } = ["scripted-model"];

    /// <summary>Every HTTP request received so far, in arrival order (chat completions and any other path).</summary>
    public IReadOnlyList<RecordedRequest> Requests => _requests.Snapshot();

    /// <summary>Scripted replies not yet consumed.</summary>
    public int QueuedReplies => _script.Count;

    /// <summary>Drops the replies still queued (a test that ended a run early leaves none for the next).</summary>
    public void Clear() => _script.Clear();

    public static async Task<ScriptedOpenAiServer> StartAsync(CancellationToken cancellationToken = default)
    {
        // The empty builder reads no appsettings.json or environment, so nothing in a test's output
        // folder can move the server off loopback or an ephemeral port.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.AddServerHeader = false);
        builder.Logging.ClearProviders();

        var server = new ScriptedOpenAiServer(builder.Build());
        try
        {
            await server._app.StartAsync(cancellationToken);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }

        server.BaseUrl = new Uri(server._app.Urls.Single().TrimEnd('/') + "/v1/");
        return server;
    }

    public void Enqueue(params Reply[] replies)
    {
        foreach (var reply in replies)
        {
            _script.Enqueue(reply);
        }
    }

    /// <summary>Answers requests that find the script empty, e.g. based on <see cref="RecordedRequest.LastMessage"/>.</summary>
    public void RespondWith(Func<RecordedRequest, Reply> responder) => _responder = responder;

    public void RespondWith(Reply reply) => _responder = _ => reply;

    /// <summary>Lets chunks of gated replies through the server's <see cref="Gate"/>.</summary>
    public void ReleaseChunk(int chunks = 1) => Gate.Release(chunks);

    /// <summary>Waits for the request with this zero-based index (as in <see cref="Requests"/>).</summary>
    public Task<RecordedRequest> WaitForRequestAsync(int index, TimeSpan timeout) =>
        _requests.WaitAsync(index, timeout);

    /// <summary>Waits until a client has disconnected before its response was complete; returns that request.</summary>
    public Task<RecordedRequest> WaitForDisconnectAsync(TimeSpan timeout) => _disconnects.WaitAsync(0, timeout);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        // Unblocks stalled and gated responses first, so Kestrel has nothing to wait for.
        await _stopping.CancelAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(deadline.Token);
        await _app.DisposeAsync();
        _stopping.Dispose();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var receivedAt = Stopwatch.GetTimestamp();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
        var cancellationToken = linked.Token;
        RecordedRequest? request = null;
        try
        {
            if (await ListedModelsAsync(context, cancellationToken))
            {
                return; // a reachability probe, not a request a test waits for
            }
            request = await RecordAsync(context, receivedAt, cancellationToken);
            request.Finish(await RespondAsync(context, request, cancellationToken));
        }
        catch (ConnectionCutException) when (request is not null)
        {
            request.Finish(RequestOutcome.CutByServer);
            throw; // Kestrel does the cut, see ConnectionCutException.
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            request?.Finish(RequestOutcome.AbandonedByServer);
            if (context.Response.HasStarted)
            {
                throw; // Kestrel closes the connection after what was written, see ConnectionCutException.
            }

            context.Abort();
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            if (request?.Finish(RequestOutcome.ClientDisconnected) == true)
            {
                _disconnects.Add(request);
            }
        }
        catch (Exception fault) when (request is not null)
        {
            // Most likely a responder that threw: keep the exception for the test, tell the client.
            request.Fail(fault);
            if (!context.Response.HasStarted)
            {
                await WriteJsonAsync(context, 500, OpenAiWire.Error(500, $"Scripted server failed: {fault.Message}"), CancellationToken.None);
            }
        }
    }

    /// <summary>Answers <c>GET /v1/models</c> (the Host probes it before users type) without recording it in <see cref="Requests"/>.</summary>
    private async Task<bool> ListedModelsAsync(HttpContext context, CancellationToken cancellationToken)
    {
        if (context.Request.Method != "GET" || NormalisePath(context.Request.Path.Value) != "/v1/models")
        {
            return false;
        }
        await WriteJsonAsync(context, 200, OpenAiWire.Models(ModelIds), cancellationToken);
        return true;
    }

    private async Task<RecordedRequest> RecordAsync(HttpContext context, long receivedAt, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync(cancellationToken);
        var headers = context.Request.Headers.ToDictionary(
            header => header.Key, header => header.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        var path = NormalisePath(context.Request.Path.Value);
        return _requests.Add(index => new RecordedRequest(index, receivedAt, context.Request.Method, path, headers, body));
    }

    private async Task<RequestOutcome> RespondAsync(HttpContext context, RecordedRequest request, CancellationToken cancellationToken)
    {
        switch (request.Method, request.Path)
        {
            case ("POST", "/v1/chat/completions"):
                return await ReplyToChatAsync(context, request, cancellationToken);
            case ("GET", var path) when path.StartsWith("/v1/models/", StringComparison.Ordinal):
                await WriteJsonAsync(context, 200, OpenAiWire.Model(path["/v1/models/".Length..]).ToJsonString(), cancellationToken);
                return RequestOutcome.Completed;
            default:
                var message = $"The scripted server has no {request.Method} {request.Path}; it serves /v1/chat/completions and /v1/models.";
                await WriteJsonAsync(context, 404, OpenAiWire.Error(404, message), cancellationToken);
                return RequestOutcome.Completed;
        }
    }

    private async Task<RequestOutcome> ReplyToChatAsync(HttpContext context, RecordedRequest request, CancellationToken cancellationToken)
    {
        if (request.Body.ValueKind != JsonValueKind.Object)
        {
            await WriteJsonAsync(context, 400, OpenAiWire.Error(400, "The request body is not a JSON object."), cancellationToken);
            return RequestOutcome.Completed;
        }

        var reply = _script.TryDequeue(out var scripted) ? scripted : _responder(request);
        request.Reply = reply;
        var gate = reply.IsGated ? reply.Gate ?? Gate : null;
        return await new ReplyWriter(context, request, reply, gate, cancellationToken).WriteAsync();
    }

    private static async Task WriteJsonAsync(HttpContext context, int statusCode, string json, CancellationToken cancellationToken)
    {
        context.Response.StatusCode = statusCode;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(json, cancellationToken);
    }

    // Clients joining a base URL ending in '/' with a path starting with '/' may send "//".
    private static string NormalisePath(string? path)
    {
        var normalised = string.Join('/', (path ?? "/").Split('/', StringSplitOptions.RemoveEmptyEntries));
        return "/" + normalised;
    }
}
