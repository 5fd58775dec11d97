using System.Net.Http.Json;
using Conclave.Sandbox.Contracts;
using Conclave.Sessions.Contracts;
using Conclave.Testing;
using Conclave.Testing.Host;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Conclave.Host.Tests.MultiNode;

/// <summary>
/// Node B of <see cref="TwoNodesTests"/>: the in-process Host, warmed by one run of its own first, so
/// that compiling its message handlers (seconds, on a busy machine) never passes for a dead node.
/// It also looks at what a node leaves in the database and the container engine, as an operator would.
/// </summary>
public class TwoNodesApp : ConclaveApp
{
    public TwoNodesApp()
    {
        ExtraSettings["Conclave:Runs:LeaseTimeout"] = "00:00:03";
        // A killed node's sandboxes are taken over after two seconds of silence.
        ExtraSettings["Conclave:Sandbox:NodeHeartbeatInterval"] = "00:00:00.250";
        ExtraSettings["Conclave:Sandbox:NodeTimeout"] = "00:00:02";
    }

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        var session = await CreateSessionAsync("warm-up");
        Provider.Enqueue(Reply.Text("Warm."));
        var run = await PostMessageAsync(session.Id, "Warm up.");
        await WaitForRunEndAsync(session.Id, run.RunId, TimeSpan.FromSeconds(60));
    }

    /// <summary>The placements naming a node, and its heartbeat rows that say it runs, in the Sandbox module's schema.</summary>
    public async Task<(long Placements, long LiveHeartbeats)> RowsOfAsync(string sandboxNodeId)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            """
            select (select count(*) from sandbox.mt_doc_placement where data ->> 'NodeId' = $1),
                   (select count(*) from sandbox.mt_doc_node where id = $1 and data ->> 'LeftAt' is null)
            """,
            connection) { Parameters = { new() { Value = sandboxNodeId } } };
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    /// <summary>Any row of the node at all (a node that left keeps one, marked, until it is swept).</summary>
    public async Task<bool> HasNodeRowAsync(string sandboxNodeId)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("select count(*) from sandbox.mt_doc_node where id = $1", connection)
        {
            Parameters = { new() { Value = sandboxNodeId } },
        };
        return (long)(await command.ExecuteScalarAsync())! > 0;
    }

    /// <summary>
    /// The tables of the node's queue (Wolverine's queue and its scheduled messages), found by the readable part of the
    /// queue's name: the node id's first 18 characters, with '-' as '_'.
    /// </summary>
    public async Task<long> QueueTablesOfAsync(string sandboxNodeId)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        var readable = sandboxNodeId[..Math.Min(18, sandboxNodeId.Length)].ToLowerInvariant().Replace('-', '_');
        await using var command = new NpgsqlCommand(
            "select count(*) from information_schema.tables where table_name like '%' || $1 || '%'", connection)
        {
            Parameters = { new() { Value = $"sandbox_{readable}_" } },
        };
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>The node's containers for the session; <paramref name="all"/> counts stopped ones too.</summary>
    public async Task<IList<ContainerListResponse>> SessionContainersAsync(string sandboxNodeId, Guid sessionId, bool all = false)
    {
        using var docker = Docker();
        return await docker.Containers.ListContainersAsync(new ContainersListParameters
        {
            All = all,
            Filters = new Dictionary<string, IDictionary<string, bool>>
            {
                ["label"] = new Dictionary<string, bool>
                {
                    [$"conclave.node={sandboxNodeId}"] = true,
                    [$"conclave.session={sessionId:N}"] = true,
                },
            },
        });
    }

    /// <summary>Every container of the node, stopped ones too.</summary>
    public async Task<IList<ContainerListResponse>> ContainersOfAsync(string sandboxNodeId)
    {
        using var docker = Docker();
        return await docker.Containers.ListContainersAsync(new ContainersListParameters
        {
            All = true,
            Filters = new Dictionary<string, IDictionary<string, bool>>
            {
                ["label"] = new Dictionary<string, bool> { [$"conclave.node={sandboxNodeId}"] = true },
            },
        });
    }

    /// <summary>A killed node's containers outlive it until a live node sweeps them; a test removes its own at once.</summary>
    public async Task RemoveContainersAsync(string sandboxNodeId)
    {
        using var docker = Docker();
        foreach (var container in await ContainersOfAsync(sandboxNodeId))
        {
            await docker.Containers.RemoveContainerAsync(container.ID, new ContainerRemoveParameters { Force = true });
        }
    }

    private DockerClient Docker() =>
        new DockerClientBuilder().WithEndpoint(new Uri(Service<IOptions<SandboxOptions>>().Value.DockerEndpoint)).Build();
}

/// <summary>What runs wrote, as the multi-node sandbox tests read it.</summary>
internal static class RunOutput
{
    public static string NodeOf(IReadOnlyList<SessionEvent> events, Guid runId) =>
        Assert.Single(events.Select(e => e.Data).OfType<RunStarted>(), s => s.RunId == runId).NodeId;

    /// <summary>The output of the run's one tool call, which must have succeeded.</summary>
    public static string Tool(IReadOnlyList<SessionEvent> events, Guid runId)
    {
        var completed = Assert.Single(events.Select(e => e.Data).OfType<ToolCallCompleted>(), c => c.RunId == runId);
        Assert.True(completed.Outcome == ToolOutcome.Ok, completed.Output);
        return completed.Output;
    }

    /// <summary>The lines of the <c>[stdout]</c> section of a run_python answer.</summary>
    public static string[] StdoutLines(string output) =>
        output.Split("[stdout]\n", 2)[1].Split("\n[", 2)[0].TrimEnd('\n').Split('\n');
}

/// <summary>A node's API as a signed-in client uses it (for a node in another process).</summary>
internal static class NodeApi
{
    public static async Task<SessionSummary> CreateSessionAsync(this HttpClient api, string title)
    {
        var created = await api.PostAsJsonAsync("/api/v1/sessions", new { title });
        created.EnsureSuccessStatusCode();
        return (await created.Content.ReadFromJsonAsync<SessionSummary>(Json.Options))!;
    }

    public static async Task<PostedMessage> PostMessageAsync(this HttpClient api, Guid sessionId, string text)
    {
        var posted = await api.PostAsJsonAsync($"/api/v1/sessions/{sessionId}/messages", new { text });
        posted.EnsureSuccessStatusCode();
        return (await posted.Content.ReadFromJsonAsync<PostedMessage>(Json.Options))!;
    }

    /// <summary>The session's files as the files API lists them: path and size.</summary>
    public static async Task<IReadOnlyDictionary<string, long>> FilesAsync(this HttpClient api, Guid sessionId)
    {
        var listed = await api.GetAsync($"/api/v1/sessions/{sessionId}/files");
        Assert.True(listed.IsSuccessStatusCode, $"listing files answered {(int)listed.StatusCode}: {await listed.Content.ReadAsStringAsync()}");
        var files = await listed.Content.ReadFromJsonAsync<List<ListedFile>>(Json.Options);
        return files!.ToDictionary(f => f.Path, f => f.Size);
    }

    private sealed record ListedFile(string Path, long Size);
}
