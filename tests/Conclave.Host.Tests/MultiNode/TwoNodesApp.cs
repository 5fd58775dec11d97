using Conclave.Testing;
using Conclave.Testing.Host;

namespace Conclave.Host.Tests.MultiNode;

/// <summary>
/// Node B of <see cref="TwoNodesTests"/>: the in-process Host, warmed by one run of its own first, so
/// that compiling its message handlers (seconds, on a busy machine) never passes for a dead node.
/// </summary>
public sealed class TwoNodesApp : ConclaveApp
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
}
