using Conclave.Knowledge.Api;
using Conclave.Knowledge.Chunking;
using Conclave.Knowledge.Collections;
using Conclave.Knowledge.Contracts;
using Conclave.Knowledge.Documents;
using Conclave.Knowledge.Embedding;
using Conclave.Knowledge.Ingest;
using Conclave.Knowledge.Retrieval;
using Conclave.Knowledge.Storage;
using Conclave.Knowledge.Telemetry;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Wolverine;

namespace Conclave.Knowledge;

/// <summary>The Knowledge module: collections and libraries, durable document ingest, local embeddings and hybrid search.</summary>
public static class KnowledgeModule
{
    /// <summary>The durable local queue ingests and session removals are handled from.</summary>
    public const string Queue = "knowledge";

    /// <summary>The key of the module's <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> in the container.</summary>
    public const string EmbeddingGeneratorKey = "knowledge";

    public static IServiceCollection AddKnowledgeModule(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<KnowledgeOptions>().Bind(configuration.GetSection(KnowledgeOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<KnowledgeOptions>, KnowledgeOptionsValidator>();
        services.TryAddSingleton(TimeProvider.System);

        var connectionString = configuration.GetConnectionString("Conclave")
            ?? throw new InvalidOperationException("ConnectionStrings:Conclave is not set; the Knowledge module stores its documents in PostgreSQL.");
        services.AddSingleton(sp => new KnowledgeDatabase(
            connectionString, sp.GetRequiredService<IOptions<KnowledgeOptions>>(), sp.GetRequiredService<ILogger<KnowledgeDatabase>>()));
        services.AddHostedService<KnowledgeSchemaInitializer>();

        // One model per process, loaded on first use.
        services.AddKeyedSingleton<IEmbeddingGenerator<string, Embedding<float>>>(
            EmbeddingGeneratorKey, (sp, _) => EmbeddingSetup.Create(sp.GetRequiredService<IOptions<KnowledgeOptions>>().Value.Embedding));
        services.AddSingleton(sp => new KnowledgeEmbedder(
            sp.GetRequiredKeyedService<IEmbeddingGenerator<string, Embedding<float>>>(EmbeddingGeneratorKey),
            sp.GetRequiredService<IOptions<KnowledgeOptions>>()));
        services.AddHostedService<EmbeddingDimensionCheck>();
        services.AddSingleton<ITokenCounter, ArcticTokenCounter>();

        services.AddSingleton<CollectionStore>();
        services.AddSingleton<IKnowledgeCollections>(sp => sp.GetRequiredService<CollectionStore>());
        services.AddSingleton<DocumentNotifier>();
        services.AddSingleton<IKnowledgeDocuments, DocumentStore>();
        services.AddSingleton<CommonTerms>();
        services.AddSingleton<KnowledgeMetrics>();
        services.AddSingleton<IKnowledgeSearch, HybridSearch>();
        services.AddSingleton<IKnowledgeTool, KnowledgeTool>();
        services.AddSingleton(sp => new DocumentIndexer(
            sp.GetRequiredService<KnowledgeDatabase>(),
            sp.GetRequiredService<KnowledgeEmbedder>(),
            sp.GetRequiredService<ITokenCounter>(),
            sp.GetRequiredService<DocumentNotifier>(),
            sp.GetRequiredService<CollectionStore>(),
            sp.GetRequiredService<IHostApplicationLifetime>(),
            sp.GetRequiredService<IOptions<KnowledgeOptions>>(),
            sp.GetRequiredService<KnowledgeMetrics>(),
            sp.GetRequiredService<ILogger<DocumentIndexer>>()));
        services.AddSingleton<IngestReaper>();
        services.AddHostedService(sp => sp.GetRequiredService<IngestReaper>());
        services.AddExceptionHandler<KnowledgeProblems>();
        return services;
    }

    /// <summary>
    /// Handlers, and the module's durable queue: ingests wait there across restarts, and at most
    /// <c>MaxConcurrentIngests</c> run at once on a node.
    /// </summary>
    public static WolverineOptions ConfigureKnowledge(this WolverineOptions options, IConfiguration configuration)
    {
        var limits = new KnowledgeLimitsOptions();
        configuration.GetSection($"{KnowledgeOptions.Section}:Limits").Bind(limits);
        options.Discovery.IncludeAssembly(typeof(KnowledgeModule).Assembly);
        options.LocalQueue(Queue).UseDurableInbox().MaximumParallelMessages(Math.Clamp(limits.MaxConcurrentIngests, 1, 64));
        options.PublishMessage<IngestDocument>().ToLocalQueue(Queue);
        return options;
    }

    /// <summary>/api/v1/knowledge/... (libraries, documents, search) and /api/v1/sessions/{id}/knowledge.</summary>
    public static IEndpointRouteBuilder MapKnowledgeModule(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapKnowledgeEndpoints();
        return endpoints;
    }
}
