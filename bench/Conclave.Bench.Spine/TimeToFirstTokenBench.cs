using System.Diagnostics;
using System.Net.Http.Json;
using Conclave.Bench.Common;
using Conclave.Sessions.Contracts;
using Conclave.Testing.Host;

namespace Conclave.Bench.Spine;

/// <summary>The owner POSTs a message; the time until the provider receives the completion request.</summary>
internal static class TimeToFirstTokenBench
{
    private const int Warmup = 5;

    public static async Task<Figure> RunAsync(SpineApp app, int posts)
    {
        var session = await app.CreateSessionAsync("ttft");
        var samples = new List<double>();
        for (var i = 0; i < Warmup + posts; i++)
        {
            var index = app.Provider.Requests.Count;
            var started = Stopwatch.GetTimestamp();
            using var response = await app.Client.PostAsJsonAsync($"/api/v1/sessions/{session.Id}/messages", new { text = $"question {i}" });
            response.EnsureSuccessStatusCode();
            var request = await app.Provider.WaitForRequestAsync(index, TimeSpan.FromSeconds(10));
            var posted = (await response.Content.ReadFromJsonAsync<PostedMessage>(Json.Options))!;
            await app.WaitForRunEndAsync(session.Id, posted.RunId);
            if (i >= Warmup)
            {
                samples.Add(Stopwatch.GetElapsedTime(started, request.ReceivedAt).TotalMilliseconds);
            }
        }

        return Figure.Of("time to first token: POST -> provider request", samples, "ms", Target.Latency(null, 50), tailPercentile: 95);
    }
}
