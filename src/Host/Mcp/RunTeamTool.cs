using System.ComponentModel;
using System.Security.Claims;
using Conclave.Agents.Contracts;
using Conclave.Sessions.Contracts;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Conclave.Host.Mcp;

/// <summary>
/// <c>run_team</c>: a new session of the caller's with the team, the prompt posted as the user's message, the run
/// followed on the session's live feed (each step and the streamed text as progress notifications) to its end.
/// The run lives in the session like any other: the page shows it, and it goes on if the caller goes away.
/// </summary>
[McpServerToolType]
internal sealed class RunTeamTool(ITeams teams, ISessions sessions, ISessionFeed feed, IRunControl runs, IHttpContextAccessor http)
{
    private const int TitleChars = 80;

    [McpServerTool(Name = "run_team", Title = "Run a Conclave team", Destructive = false, OpenWorld = true)]
    [Description("Runs one of your Conclave teams on a prompt in a new session and returns the team's final answer and the session's link. " +
                 "Progress notifications carry each step (messages, tool calls, approvals the run waits for) and the text as it streams. " +
                 "Cancelling the call stops the run.")]
    public async Task<CallToolResult> RunAsync(
        ClaimsPrincipal user,
        RequestContext<CallToolRequestParams> request,
        [Description("The team's name (or id), as on the Teams page: one of yours or a built-in template such as \"Assistant\".")] string team,
        [Description("The task for the team: posted as your message in the new session.")] string prompt,
        CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(prompt))
        {
            throw new McpException("Give the team a prompt: the task, in plain words.");
        }

        var owner = user.OwnerId();
        var chosen = await FindTeamAsync(owner, team, cancellationToken);
        var session = await McpCaller.AskAsync(() => sessions.CreateAsync(owner, Title(prompt), cancellationToken));
        await McpCaller.AskAsync(() => sessions.ChooseTeamAsync(owner, session.Id, chosen.Id, chosen.Name, cancellationToken));
        var posted = await McpCaller.AskAsync(() => sessions.PostMessageAsync(owner, session.Id, prompt, cancellationToken));
        var link = McpCaller.SessionLink(http, session.Id);
        var steps = new ProgressSteps(request);
        await steps.ReportAsync($"Session started with {chosen.Name}: {link}", cancellationToken);

        try
        {
            string? answer = null;
            await foreach (var item in feed.SubscribeAsync(session.Id, afterVersion: 0, cancellationToken))
            {
                switch (item)
                {
                    case FeedPartial soFar when soFar.RunId == posted.RunId:
                        await steps.ReportAsync(soFar.Text, cancellationToken);
                        break;
                    case FeedDelta delta when delta.RunId == posted.RunId:
                        await steps.ReportAsync(delta.Text, cancellationToken);
                        break;
                    case FeedEvent { Event.Data: IRunEvent step } when step.RunId == posted.RunId:
                        if (step is AgentMessageCompleted message)
                        {
                            answer = message.Text;
                        }

                        if (Describe(step, link) is { } text)
                        {
                            await steps.ReportAsync(text, cancellationToken);
                        }

                        if (step is IRunEnded ended)
                        {
                            return Result(ended, answer, link);
                        }

                        break;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await StopAsync(owner, session.Id, posted.RunId);
            throw;
        }

        throw new McpException($"The session's feed ended before the run did; follow it at {link}.");
    }

    private async Task<TeamDefinition> FindTeamAsync(string owner, string team, CancellationToken cancellationToken)
    {
        var all = await teams.ListAsync(owner, cancellationToken);
        var wanted = team.Trim();
        // The caller's own team wins over a built-in template of the same name.
        return all.Where(t => Guid.TryParse(wanted, out var id) ? t.Id == id : string.Equals(t.Name, wanted, StringComparison.OrdinalIgnoreCase))
                   .OrderBy(t => t.BuiltIn)
                   .FirstOrDefault()
               ?? throw new McpException($"Team '{wanted}' was not found. Your teams: {string.Join(", ", all.Select(t => t.Name))}.");
    }

    private async Task StopAsync(string owner, Guid sessionId, Guid runId)
    {
        try
        {
            // The caller gave up on the answer: stop spending on it. The session keeps what was done.
            await runs.CancelAsync(owner, sessionId, runId, CancellationToken.None);
        }
        catch (RunAlreadyEndedException)
        {
            // It ended on its own meanwhile.
        }
    }

    private static string? Describe(IRunEvent step, string link) => step switch
    {
        RunStarted => "The team started working.",
        AgentMessageCompleted m => $"{m.Agent}: {m.Text}",
        ToolCallRequested c => $"{c.Agent} calls {c.Tool}.",
        ToolCallCompleted c => $"{c.Tool}: {c.Outcome}.",
        ToolApprovalRequested a => $"{a.Agent} wants to run {a.Tool} and waits for your approval at {link}.",
        ToolApprovalGranted g => $"{g.Tool} approved.",
        ToolApprovalDenied d => $"{d.Tool} denied.",
        RunPaused => $"The run is paused; resume it at {link}.",
        RunResumed => "The run resumed.",
        _ => null,
    };

    private static CallToolResult Result(IRunEnded ended, string? answer, string link)
    {
        var (text, failed) = ended switch
        {
            RunCompleted => (answer ?? "The team ended without an answer.", false),
            RunFailed f => ($"The run failed: {f.Reason}", true),
            RunCancelled c => ($"The run was cancelled: {c.Reason}", true),
            _ => ($"The run ended: {ended.Status}.", true),
        };
        return new CallToolResult
        {
            IsError = failed,
            Content =
            [
                new TextContentBlock { Text = text },
                new ResourceLinkBlock { Uri = link, Name = "session", Title = "The session in Conclave", MimeType = "text/html" },
            ],
        };
    }

    private static string Title(string prompt)
    {
        var line = prompt.Trim().Split('\n')[0].Trim();
        return line.Length <= TitleChars ? line : line[..(TitleChars - 1)] + "…";
    }

    /// <summary>
    /// Progress notifications, when the caller asked for them (a progress token), each sent before the next so they
    /// leave in order (the SDK's injected IProgress does not wait), with an increasing value and no total: a run's
    /// length is not known.
    /// </summary>
    private sealed class ProgressSteps(RequestContext<CallToolRequestParams> request)
    {
        private int _count;

        public async Task ReportAsync(string message, CancellationToken cancellationToken)
        {
            if (request.Params?.ProgressToken is { } token)
            {
                await request.Server.NotifyProgressAsync(token, new ProgressNotificationValue { Progress = ++_count, Message = message }, cancellationToken: cancellationToken);
            }
        }
    }
}
