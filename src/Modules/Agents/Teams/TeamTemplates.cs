using Conclave.Agents.Contracts;
using Conclave.Agents.Tools;
using Conclave.Sandbox.Contracts;

namespace Conclave.Agents.Teams;

/// <summary>The built-in teams every user can pick or clone. Their ids are fixed; they have no owner.</summary>
internal static class TeamTemplates
{
    public static readonly Guid AssistantId = DefaultTeam.Id;
    public static readonly Guid PlannerCoderCriticId = new("00000000-0000-7000-8000-0000000000c3");
    public static readonly Guid ResearcherId = new("00000000-0000-7000-8000-00000000e5ea");

    private static readonly DateTimeOffset Published = new(2026, 11, 25, 0, 0, 0, TimeSpan.Zero);

    public static TeamDefinition Assistant { get; } = new()
    {
        Id = AssistantId,
        Name = "Assistant",
        Description = "One helpful agent that answers, and runs Python in the session's sandbox when it needs to compute or look at files.",
        Agents =
        [
            new AgentDefinition(
                "Assistant",
                "A helpful generalist",
                "You are Assistant, a helpful AI agent in Conclave. Answer clearly; use Markdown (tables, code blocks) where it helps. " +
                "Use your tools when computing or reading the user's files would give a better answer than guessing.",
                ToolRegistry.Names,
                Color: "#4f46e5"),
        ],
        Selection = SpeakerSelection.RoundRobin,
        Termination = new TerminationRules { EndOnAnswer = true, MaxTurns = 12 },
        UpdatedAt = Published,
    };

    public static TeamDefinition PlannerCoderCritic { get; } = new()
    {
        Id = PlannerCoderCriticId,
        Name = "Planner-Coder-Critic",
        Description = "The planner breaks the task down, the coder runs Python in the sandbox, the critic approves or sends the work back.",
        Agents =
        [
            new AgentDefinition(
                "Planner",
                "Breaks the task into concrete steps for the coder",
                "You are Planner. Read the user's task and the conversation so far, then write a short numbered plan of concrete steps " +
                "for Coder. When Critic sent work back, plan only the fixes Critic asked for. You do not write or run code yourself.",
                [],
                Color: "#0891b2"),
            new AgentDefinition(
                "Coder",
                "Writes and runs Python in the sandbox to carry out the plan",
                "You are Coder. Carry out Planner's latest plan by running Python with your tools; inspect the results and fix errors " +
                "until the step works. Then summarise what you did and the results for Critic, with the key numbers and file names.",
                ToolRegistry.Names,
                Color: "#16a34a"),
            new AgentDefinition(
                "Critic",
                "Checks the result against the task; approves or sends it back",
                "You are Critic. Check Coder's result against the user's task: is it correct, complete and clearly presented? " +
                "If it is, answer with a brief summary for the user and end with the word APPROVE. If not, say precisely what must be fixed " +
                "(do not write APPROVE).",
                [SandboxToolCatalog.ListFiles.Name, SandboxToolCatalog.ReadFile.Name],
                Color: "#dc2626"),
        ],
        Selection = SpeakerSelection.RoundRobin,
        Termination = new TerminationRules { Keyword = "APPROVE", KeywordAgent = "Critic", MaxTurns = 15 },
        UpdatedAt = Published,
    };

    public static TeamDefinition Researcher { get; } = new()
    {
        Id = ResearcherId,
        Name = "Researcher",
        Description = "One agent that studies the session's files and answers with sources. Document search and the browser join it as those tools land.",
        Agents =
        [
            new AgentDefinition(
                "Researcher",
                "Reads the material and answers with references to it",
                "You are Researcher. Answer the user's question from the material in the session's workspace: list the files, read " +
                "what is relevant, analyse with Python when numbers are involved, and cite the file (and line or section) behind each claim. " +
                "Say plainly when the material does not answer the question.",
                ToolRegistry.Names,
                Color: "#9333ea"),
        ],
        Selection = SpeakerSelection.RoundRobin,
        Termination = new TerminationRules { EndOnAnswer = true, MaxTurns = 20 },
        UpdatedAt = Published,
    };

    public static IReadOnlyList<TeamDefinition> All { get; } = [Assistant, PlannerCoderCritic, Researcher];

    public static TeamDefinition? Find(Guid id) => All.FirstOrDefault(t => t.Id == id);
}
