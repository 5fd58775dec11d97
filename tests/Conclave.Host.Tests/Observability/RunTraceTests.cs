using System.Diagnostics;
using Conclave.Testing;
using Conclave.Testing.Host;

namespace Conclave.Host.Tests.Observability;

/// <summary>A run is one trace, from the message's POST down to the sandbox, with no key and no conversation in it.</summary>
[Collection(ObservedHost.Name)]
public sealed class RunTraceTests(ObservedApp app)
{
    private const string Question = "Please compute six times seven for me";
    private const string Answer = "The product you asked for is 42";

    [Fact]
    public async Task The_runs_spans_descend_from_the_post_through_steps_to_model_tool_and_sandbox_spans_without_key_or_text()
    {
        var session = await app.CreateSessionAsync("trace");
        app.Provider.Enqueue(
            Reply.ToolCall("run_python", """{"code": "print(6 * 7)"}""", id: "call_trace_1"),
            Reply.Text(Answer));

        var posted = await app.PostMessageAsync(session.Id, Question);
        await app.WaitForRunEndAsync(session.Id, posted.RunId, TimeSpan.FromSeconds(90));
        Activity? run = null;
        await Eventually.Until(
            () => (run = app.Spans.Snapshot().FirstOrDefault(s => s.DisplayName == "conclave.run" && Equals(s.GetTagItem("conclave.run.id"), posted.RunId.ToString()))) is not null,
            TimeSpan.FromSeconds(10),
            "the run's span is exported when the run's execution ends");

        var trace = app.Spans.Snapshot().Where(s => s.TraceId == run!.TraceId).ToList();
        Activity? Parent(Activity span) => trace.FirstOrDefault(s => s.SpanId == span.ParentSpanId);
        List<Activity> ChildrenOf(Activity span, string namePrefix) =>
            trace.Where(s => s.ParentSpanId == span.SpanId && s.DisplayName.StartsWith(namePrefix, StringComparison.Ordinal)).OrderBy(s => s.StartTimeUtc).ToList();

        var post = Parent(run!);
        Assert.NotNull(post);
        Assert.Equal(ActivityKind.Server, post.Kind);
        Assert.Equal("POST", post.GetTagItem("http.request.method"));
        Assert.Contains("messages", post.DisplayName, StringComparison.Ordinal);

        var steps = ChildrenOf(run!, "conclave.run.step");
        Assert.Equal(["conclave.run.step message", "conclave.run.step tool", "conclave.run.step message"], steps.Select(s => s.DisplayName));
        var models = steps.Where(s => s.DisplayName.EndsWith("message", StringComparison.Ordinal)).Select(s => Assert.Single(ChildrenOf(s, "chat "))).ToList();
        Assert.All(models, m =>
        {
            Assert.Equal(ActivityKind.Client, m.Kind);
            Assert.Equal("chat", m.GetTagItem("gen_ai.operation.name"));
            Assert.Equal("scripted-model", m.GetTagItem("gen_ai.request.model"));
            Assert.NotNull(m.GetTagItem("gen_ai.usage.input_tokens"));
        });
        var tool = Assert.Single(ChildrenOf(steps[1], "execute_tool "));
        Assert.Equal("run_python", tool.GetTagItem("gen_ai.tool.name"));
        Assert.Equal("call_trace_1", tool.GetTagItem("gen_ai.tool.call.id"));
        var sandbox = trace.Single(s => s.DisplayName == "conclave.sandbox.execute");
        Assert.Contains(tool, Ancestors(sandbox, Parent));

        // Every span anywhere, not only the run's: no provider key, and no word of the conversation.
        foreach (var span in app.Spans.Snapshot())
        {
            foreach (var (key, value) in span.TagObjects)
            {
                var text = value?.ToString() ?? "";
                Assert.DoesNotContain(ConclaveApp.ProviderKey, text, StringComparison.Ordinal);
                Assert.False(text.Contains(Question, StringComparison.Ordinal) || text.Contains(Answer, StringComparison.Ordinal), $"span {span.DisplayName} holds message text in {key}");
            }
        }

        // The log lines written during the run carry its trace id.
        var ended = app.Logs.Lines.Where(l => l.Contains(posted.RunId.ToString(), StringComparison.Ordinal) && l.Contains(" ended: ", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(ended);
        Assert.All(ended, l => Assert.Contains(run!.TraceId.ToHexString(), l, StringComparison.Ordinal));
    }

    private static IEnumerable<Activity> Ancestors(Activity span, Func<Activity, Activity?> parent)
    {
        for (var p = parent(span); p is not null; p = parent(p))
        {
            yield return p;
        }
    }
}
