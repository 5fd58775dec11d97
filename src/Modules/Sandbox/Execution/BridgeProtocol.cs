using System.Text.Json;
using System.Text.Json.Serialization;
using Conclave.Sandbox.Containers;

namespace Conclave.Sandbox.Execution;

/// <summary>The newline-delimited JSON spoken with deploy/sandbox/kernel_bridge.py over the container's stdin/stdout.</summary>
internal sealed record BridgeRequest(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("op")] string Op,
    [property: JsonPropertyName("code")] string? Code = null,
    [property: JsonPropertyName("timeout_s")] double? TimeoutSeconds = null,
    [property: JsonPropertyName("max_output_bytes")] int? MaxOutputBytes = null,
    [property: JsonPropertyName("target")] string? Target = null);

internal sealed record BridgeResponse
{
    [JsonPropertyName("id")] public string? Id { get; init; }
    [JsonPropertyName("ready")] public bool? Ready { get; init; }
    [JsonPropertyName("hello")] public bool? Hello { get; init; }
    [JsonPropertyName("limits")] public LimitsReport? Limits { get; init; }
    [JsonPropertyName("status")] public string? Status { get; init; }
    [JsonPropertyName("stdout")] public string? Stdout { get; init; }
    [JsonPropertyName("stderr")] public string? Stderr { get; init; }
    [JsonPropertyName("result")] public string? Result { get; init; }
    [JsonPropertyName("html")] public string? Html { get; init; }
    [JsonPropertyName("display")] public List<BridgeDisplay>? Display { get; init; }
    [JsonPropertyName("error")] public BridgeError? Error { get; init; }
    [JsonPropertyName("truncated")] public bool Truncated { get; init; }
    [JsonPropertyName("duration_ms")] public long DurationMs { get; init; }
    [JsonPropertyName("kernel_restarted")] public bool KernelRestarted { get; init; }
    [JsonPropertyName("kernel_start_ms")] public long? KernelStartMs { get; init; }
    [JsonPropertyName("interrupted")] public bool? Interrupted { get; init; }
}

internal sealed record BridgeDisplay(
    [property: JsonPropertyName("mime")] string Mime,
    [property: JsonPropertyName("data")] string? Data,
    [property: JsonPropertyName("path")] string? Path);

internal sealed record BridgeError(
    [property: JsonPropertyName("ename")] string? Name,
    [property: JsonPropertyName("evalue")] string? Value,
    [property: JsonPropertyName("traceback")] string? Traceback);

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(BridgeRequest))]
[JsonSerializable(typeof(BridgeResponse))]
internal sealed partial class BridgeJson : JsonSerializerContext
{
    public static byte[] Serialize(BridgeRequest request)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(request, Default.BridgeRequest);
        Array.Resize(ref bytes, bytes.Length + 1);
        bytes[^1] = (byte)'\n';
        return bytes;
    }

    public static BridgeResponse? Parse(ReadOnlySpan<byte> line) =>
        JsonSerializer.Deserialize(line, Default.BridgeResponse);
}
