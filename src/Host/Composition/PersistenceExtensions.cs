using Conclave.Agents;
using Conclave.Knowledge;
using Conclave.Sandbox;
using Conclave.Sessions;
using Conclave.Sessions.Contracts;
using JasperFx;
using JasperFx.CodeGeneration;
using Marten;
using Weasel.Core;
using Conclave.McpTools;
using Wolverine;
using Wolverine.Marten;

namespace Conclave.Host.Composition;

internal static class PersistenceExtensions
{
    /// <summary>Marten (event store, documents) and Wolverine (durable messaging, outbox) on one PostgreSQL.</summary>
    public static WebApplicationBuilder AddPersistenceAndMessaging(this WebApplicationBuilder builder)
    {
        var connectionString = builder.Configuration.GetConnectionString("Conclave")
            ?? throw new InvalidOperationException(
                "ConnectionStrings:Conclave is not set. Start Conclave with ./run.sh, or set ConnectionStrings__Conclave to a PostgreSQL 15+ database.");

        builder.Services.AddMarten(options =>
            {
                options.Connection(connectionString);
                options.DatabaseSchemaName = "conclave";
                options.UseSystemTextJsonForSerialization(EnumStorage.AsString);
                options.AutoCreateSchemaObjects = AutoCreate.CreateOrUpdate;
                options.ConfigureSessions();
                options.ConfigureAgents();
                options.ConfigureMcpTools();
                options.ConfigureSandbox();
            })
            .UseLightweightSessions()
            .ApplyAllDatabaseChangesOnStartup()
            .IntegrateWithWolverine(integration => integration.MessageStorageSchemaName = "wolverine");

        builder.Services.AddWolverineRuntimeCompilation();
        builder.Host.UseWolverine(options =>
        {
            options.UseRuntimeCompilation();
            options.Policies.AutoApplyTransactions();
            options.Policies.UseDurableLocalQueues();
            options.ConfigureAgents();
            options.ConfigureSandbox(builder.Configuration);
            options.ConfigureKnowledge(builder.Configuration);

            // Routing between modules, in one place.
            options.PublishMessage<RunRequested>().ToLocalQueue(AgentsModule.RunsQueue);
            options.PublishMessage<SessionRemoved>().ToLocalQueue(SandboxModule.Queue);
            options.PublishMessage<SessionRemoved>().ToLocalQueue(KnowledgeModule.Queue);
            options.PublishMessage<RunCancellationRequested>().ToLocalQueue(AgentsModule.RunControlQueue);
        });
        return builder;
    }
}
