using System.Net.Http.Json;
using System.Text.Json;
using OpenAI.Chat;
using Xunit;

namespace Conclave.Testing.Tests;

public sealed class StreamingTests : ScriptedServerTest
{
    [Fact]
    public async Task Streamed_text_reassembles_and_reports_the_scripted_usage()
    {
        Server.Enqueue(Reply.Text("Hello **world**").InChunks(5).WithUsage(12, 7));

        var updates = await StreamAsync(Client(), "Say hello");

        Assert.Equal("Hello **world**", TextOf(updates));
        Assert.Equal(5, updates.Count(update => update.ContentUpdate.Count > 0));
        Assert.Equal(ChatFinishReason.Stop, updates.Single(update => update.FinishReason is not null).FinishReason);
        var usage = updates.Single(update => update.Usage is not null).Usage;
        Assert.Equal((12, 7, 19), (usage.InputTokenCount, usage.OutputTokenCount, usage.TotalTokenCount));
    }

    [Fact]
    public async Task Requests_are_recorded_with_headers_body_and_messages()
    {
        await StreamAsync(Client(), "What is 1+1?");

        var request = await Server.WaitForRequestAsync(0, Deadline);
        Assert.Equal("/v1/chat/completions", request.Path);
        Assert.Equal($"Bearer {ApiKey}", request.Authorization);
        Assert.Equal("gpt-4o-mini", request.Model);
        Assert.True(request.Stream);
        Assert.True(request.IncludeUsage);
        Assert.Equal(("user", "What is 1+1?"), (request.LastMessage!.Role, request.LastMessage.Content));
        Assert.Equal("ok", request.Reply?.Content);
        Assert.Equal(RequestOutcome.Completed, await request.WaitUntilFinishedAsync(Deadline));
    }

    [Fact]
    public async Task Non_streamed_completion_returns_the_text_and_usage()
    {
        Server.Enqueue(Reply.Text("Plain answer").WithUsage(3, 2));

        ChatCompletion completion = await Client().CompleteChatAsync([new UserChatMessage("Hi")]);

        Assert.Equal("Plain answer", completion.Content.Single().Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.Equal(5, completion.Usage.TotalTokenCount);
    }

    [Fact]
    public async Task Streamed_tool_calls_arrive_in_fragments_and_reassemble()
    {
        Server.Enqueue(Reply.ToolCall("run_python", """{"code":"1+1"}""").AndToolCall("search", """{"query":"pgvector"}"""));

        var updates = await StreamAsync(Client(), "Compute and search");

        var fragments = updates.SelectMany(update => update.ToolCallUpdates).ToList();
        var calls = fragments
            .GroupBy(fragment => fragment.Index)
            .Select(call => (
                Id: call.Select(f => f.ToolCallId).Single(id => id is not null),
                Name: call.Select(f => f.FunctionName).Single(name => name is not null),
                Arguments: string.Concat(call.Select(f => f.FunctionArgumentsUpdate?.ToString())),
                Fragments: call.Count()))
            .ToList();
        Assert.Equal(("call_0_0", "run_python", """{"code":"1+1"}"""), (calls[0].Id, calls[0].Name, calls[0].Arguments));
        Assert.Equal(("call_0_1", "search", """{"query":"pgvector"}"""), (calls[1].Id, calls[1].Name, calls[1].Arguments));
        Assert.All(calls, call => Assert.True(call.Fragments > 1, "arguments should be streamed in fragments"));
        Assert.Equal(ChatFinishReason.ToolCalls, updates.Single(update => update.FinishReason is not null).FinishReason);
    }

    [Fact]
    public async Task Tool_results_sent_back_are_recorded_in_the_history()
    {
        Server.Enqueue(Reply.ToolCall("run_python", """{"code":"1+1"}"""), Reply.Text("It is 2."));
        var client = Client();
        List<ChatMessage> history = [new UserChatMessage("What is 1+1?")];

        ChatCompletion call = await client.CompleteChatAsync(history);
        history.Add(new AssistantChatMessage(call));
        history.Add(new ToolChatMessage(call.ToolCalls.Single().Id, "2"));
        ChatCompletion answer = await client.CompleteChatAsync(history);

        Assert.Equal("It is 2.", answer.Content.Single().Text);
        var second = await Server.WaitForRequestAsync(1, Deadline);
        Assert.Equal("run_python", second.Messages[1].ToolCalls.Single().Name);
        Assert.Equal(("tool", "2", "call_0_0"), (second.LastMessage!.Role, second.LastMessage.Content, second.LastMessage.ToolCallId));
    }

    [Fact]
    public async Task A_responder_answers_from_the_request_once_the_script_is_used_up()
    {
        Server.Enqueue(Reply.Text("scripted"));
        Server.RespondWith(request => Reply.Text($"echo: {request.LastMessage?.Content}"));
        var client = Client();

        var first = TextOf(await StreamAsync(client, "one"));
        var second = TextOf(await StreamAsync(client, "two"));

        Assert.Equal(("scripted", "echo: two"), (first, second));
        Assert.Equal(0, Server.QueuedReplies);
    }

    [Fact]
    public async Task Raw_stream_is_server_sent_events_with_usage_in_the_final_chunk_when_always_sent()
    {
        Server.Enqueue(Reply.Chunks("a", "b").WithUsage(4, 2).AlwaysSendUsage());
        using var http = new HttpClient { BaseAddress = Server.BaseUrl };

        using var response = await http.PostAsJsonAsync("chat/completions", new
        {
            model = "m",
            stream = true,
            messages = new[] { new { role = "user", content = "hi" } },
        });
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.All(events, e => Assert.StartsWith("data: ", e));
        Assert.Equal("data: [DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonDocument.Parse(e["data: ".Length..]).RootElement).ToList();
        Assert.Equal(3, chunks.Count); // two deltas and the finish chunk; no separate usage chunk was asked for
        Assert.All(chunks, chunk => Assert.Equal("chat.completion.chunk", chunk.GetProperty("object").GetString()));
        Assert.Equal("assistant", chunks[0].GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());
        var final = chunks[^1];
        Assert.Equal("stop", final.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal(6, final.GetProperty("usage").GetProperty("total_tokens").GetInt32());
    }

    [Fact]
    public async Task Models_endpoint_lists_the_model_ids()
    {
        Server.ModelIds = ["gpt-4o-mini", "local-llama"];
        using var http = new HttpClient { BaseAddress = Server.BaseUrl };

        var models = await http.GetFromJsonAsync<JsonElement>("models");

        var ids = models.GetProperty("data").EnumerateArray().Select(model => model.GetProperty("id").GetString());
        Assert.Equal(["gpt-4o-mini", "local-llama"], ids);
    }

    [Fact]
    public async Task Fifty_concurrent_streams_are_each_served_in_full()
    {
        Server.RespondWith(request => Reply.Text($"answer to {request.LastMessage?.Content}").InChunks(4));
        var client = Client();

        var answers = await Task.WhenAll(Enumerable.Range(0, 50)
            .Select(async i => TextOf(await StreamAsync(client, $"question {i}"))));

        Assert.Equal(Enumerable.Range(0, 50).Select(i => $"answer to question {i}"), answers);
        Assert.Equal(50, Server.Requests.Count);
        Assert.Equal(Enumerable.Range(0, 50), Server.Requests.Select(request => request.Index));
    }
}
