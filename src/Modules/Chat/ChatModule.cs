using Conclave.Chat.Answers;
using Conclave.Chat.Connections;
using Conclave.Chat.Contracts;
using Conclave.Chat.Conversations;
using Conclave.Chat.Linking;
using Conclave.Chat.Slack;
using Conclave.Chat.Storage;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Conclave.Chat;

/// <summary>The Chat module: Slack bridges to teams (ADR 0019). Talks to other modules through their contracts only.</summary>
public static class ChatModule
{
    public static IServiceCollection AddChatModule(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ChatOptions>().Bind(configuration.GetSection(ChatOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<ChatOptions>, ChatOptionsValidator>();
        services.TryAddSingleton(TimeProvider.System);
        var connectionString = configuration.GetConnectionString("Conclave")
            ?? throw new InvalidOperationException("ConnectionStrings:Conclave is not set; the Chat module keeps its connections in PostgreSQL.");
        services.AddSingleton(_ => new ChatDatabase(connectionString));
        services.AddSingleton<ChatStore>();
        services.AddSingleton<ChatSecrets>();
        services.AddHttpClient(ChatClients.HttpClientName, client => client.Timeout = TimeSpan.FromSeconds(30));
        services.AddSingleton<ChatClients>();
        services.AddSingleton<ConnectionStates>();
        services.AddSingleton<ChatLinks>();
        services.AddSingleton<IChatLinks>(sp => sp.GetRequiredService<ChatLinks>());
        services.AddSingleton<AnswerRelay>();
        services.AddSingleton<ChatInbox>();
        services.AddSingleton<ChatConnections>();
        services.AddSingleton<IChatConnections>(sp => sp.GetRequiredService<ChatConnections>());
        services.AddHostedService(sp => sp.GetRequiredService<ChatConnections>());
        services.AddExceptionHandler<ChatProblems>();
        return services;
    }

    /// <summary>Slack's Events API and interactivity endpoints (anonymous: each request is verified by its signature).</summary>
    public static IEndpointRouteBuilder MapChatModule(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapSlackEvents();
        return endpoints;
    }
}
