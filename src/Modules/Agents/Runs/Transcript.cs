using System.Text;
using Conclave.Agents.Contracts;
using Conclave.Agents.Tools;
using Conclave.Sessions.Contracts;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;

namespace Conclave.Agents.Runs;

/// <summary>
/// Builds what one agent sees: its system prompt (role, team, exactly its tools) and the
/// conversation the run answers, without what an edit superseded. The agent's own messages and tool
/// calls are its assistant turns; the other members' are shown to it as named user turns.
/// </summary>
internal static class Transcript
{
    /// <summary>How much of another agent's tool output is quoted to an agent.</summary>
    private const int QuotedOutputChars = 4000;

    public static ChatHistory For(
        IReadOnlyList<SessionEvent> history, RunState run, TeamDefinition team, AgentDefinition agent, AgentToolbox tools)
    {
        var chat = new ChatHistory(SystemPrompt(team, agent, tools));
        var superseded = Conversation.SupersededVersions(history);
        var calls = new Dictionary<string, ToolCallRequested>();
        var answered = new HashSet<string>();
        var requested = new Dictionary<Guid, List<ToolCallRequested>>();
        foreach (var e in history)
        {
            switch (e.Data)
            {
                case ToolCallCompleted done:
                    answered.Add(done.CallId);
                    break;
                case ToolCallRequested call:
                    (requested.TryGetValue(call.MessageId, out var list) ? list : requested[call.MessageId] = []).Add(call);
                    break;
            }
        }

        foreach (var e in history)
        {
            if (superseded.Contains(e.Version) || !Belongs(e, run))
            {
                continue;
            }

            switch (e.Data)
            {
                case UserMessagePosted posted:
                    chat.AddUserMessage(posted.Text);
                    break;
                case UserMessageEdited edited:
                    chat.AddUserMessage(edited.Text);
                    break;
                case AgentMessageCompleted message when message.Agent == agent.Name:
                    var own = new ChatMessageContent(AuthorRole.Assistant, message.Text);
                    var ownCalls = requested.GetValueOrDefault(message.MessageId) ?? [];
                    foreach (var call in ownCalls)
                    {
                        calls[call.CallId] = call;
                        own.Items.Add(new FunctionCallContent(call.Tool, null, call.CallId, Arguments(call.Arguments)));
                    }

                    chat.Add(own);
                    // A call its run never answered (stopped mid-call) still needs an answer on the wire.
                    foreach (var call in ownCalls.Where(c => !answered.Contains(c.CallId)))
                    {
                        chat.Add(ToolResult(call.CallId, call.Tool, "(not run: the run ended before this call was made)"));
                    }

                    break;
                case AgentMessageCompleted message:
                    chat.Add(new ChatMessageContent(AuthorRole.User, $"[{message.Agent}]\n{message.Text}") { AuthorName = SafeName(message.Agent) });
                    break;
                case ToolCallCompleted done when calls.ContainsKey(done.CallId):
                    chat.Add(ToolResult(done.CallId, done.Tool, done.Output));
                    break;
                case ToolCallCompleted done when !done.Tool.StartsWith(ToolNames.TransferPrefix, StringComparison.Ordinal):
                    var output = done.Output.Length > QuotedOutputChars ? done.Output[..QuotedOutputChars] + "\n[...]" : done.Output;
                    chat.Add(new ChatMessageContent(AuthorRole.User, $"[{done.Agent} used {done.Tool}]\n{output}") { AuthorName = SafeName(done.Agent) });
                    break;
            }
        }

        return chat;
    }

    public static string SystemPrompt(TeamDefinition team, AgentDefinition agent, AgentToolbox tools)
    {
        var prompt = new StringBuilder(agent.SystemPrompt.Trim()).Append("\n\n");
        if (team.Agents.Count > 1)
        {
            prompt.Append("You are ").Append(agent.Name).Append(" in the team '").Append(team.Name).Append("'. The members:\n");
            foreach (var member in team.Agents)
            {
                prompt.Append("- ").Append(member.Name).Append(": ").Append(member.Role).Append('\n');
            }

            prompt.Append("Messages from other members reach you as user messages that start with their name in brackets.\n\n");
        }

        if (team.Termination.Keyword is { Length: > 0 } keyword && (team.Termination.KeywordAgent is null || team.Termination.KeywordAgent == agent.Name))
        {
            prompt.Append("Write ").Append(keyword).Append(" only when the work is finished and correct; it ends the run.\n\n");
        }

        return prompt.Append(tools.Describe()).ToString();
    }

    /// <summary>The conversation before the run (its queueing included) and the run's own steps; later runs are not part of it.</summary>
    private static bool Belongs(SessionEvent e, RunState run) =>
        e.Version <= run.QueuedVersion || e.Data switch
        {
            AgentMessageCompleted m => m.RunId == run.RunId,
            ToolCallCompleted t => t.RunId == run.RunId,
            _ => false,
        };

    private static ChatMessageContent ToolResult(string callId, string tool, string output) =>
        new(AuthorRole.Tool, [new FunctionResultContent(tool, null, callId, output)]);

    private static KernelArguments? Arguments(string json)
    {
        try
        {
            var parsed = System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, object?>>(json);
            return parsed is null ? null : new KernelArguments(parsed!);
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    /// <summary>OpenAI's participant names allow letters, digits, '_' and '-'.</summary>
    private static string SafeName(string name) =>
        new(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' ? c : '_').Take(64).ToArray());
}
