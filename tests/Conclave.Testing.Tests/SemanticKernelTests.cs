using System.ClientModel;
using System.ClientModel.Primitives;
using System.ComponentModel;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;
using Microsoft.SemanticKernel.Connectors.OpenAI;
using OpenAI;
using Xunit;

namespace Conclave.Testing.Tests;

/// <summary>Semantic Kernel's OpenAI connector, as the app uses it, against the scripted server.</summary>
public sealed class SemanticKernelTests : ScriptedServerTest
{
    [Fact]
    public async Task Streamed_tool_call_is_invoked_by_the_kernel_and_the_answer_follows()
    {
        Server.Enqueue(Reply.ToolCall("Calculator-Add", """{"a":1,"b":2}"""));
        Server.RespondWith(request => Reply.Text($"The sum is {request.LastMessage?.Content}."));
        var kernel = Kernel();
        var settings = new OpenAIPromptExecutionSettings { FunctionChoiceBehavior = FunctionChoiceBehavior.Auto() };

        var answer = "";
        await foreach (var part in kernel.GetRequiredService<IChatCompletionService>()
                           .GetStreamingChatMessageContentsAsync(new ChatHistory("What is 1+2?"), settings, kernel))
        {
            answer += part.Content;
        }

        Assert.Equal("The sum is 3.", answer);
        var first = await Server.WaitForRequestAsync(0, Deadline);
        Assert.Contains("Calculator-Add", first.ToolNames);
        var second = await Server.WaitForRequestAsync(1, Deadline);
        Assert.Equal(("tool", "3", "call_0_0"), (second.LastMessage!.Role, second.LastMessage.Content, second.LastMessage.ToolCallId));
    }

    private Kernel Kernel()
    {
        var client = new OpenAIClient(
            new ApiKeyCredential(ApiKey),
            new OpenAIClientOptions { Endpoint = Server.BaseUrl, RetryPolicy = new ClientRetryPolicy(maxRetries: 0) });
        var builder = Microsoft.SemanticKernel.Kernel.CreateBuilder().AddOpenAIChatCompletion("gpt-4o-mini", client);
        builder.Plugins.AddFromType<Calculator>();
        return builder.Build();
    }

    private sealed class Calculator
    {
        [KernelFunction, Description("Adds two numbers.")]
        public int Add(int a, int b) => a + b;
    }
}
