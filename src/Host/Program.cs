using Conclave.Agents;
using Conclave.Chat;
using Conclave.Egress;
using Conclave.Host.Composition;
using Conclave.Host.Mcp;
using Conclave.Identity;
using Conclave.Identity.Contracts;
using Conclave.Knowledge;
using Conclave.McpTools;
using Conclave.Sandbox;
using Conclave.Sessions;
using Conclave.Web;

var builder = WebApplication.CreateBuilder(args);

builder.AddPersistenceAndMessaging();
builder.Services.AddIdentityModule(builder.Configuration, builder.Environment);
builder.AddWeb();
// One policy for every connection the Host makes on a user's behalf, whichever module makes it.
builder.Services.AddEgressPolicy(builder.Configuration);
builder.Services.AddSessionsModule();
builder.Services.AddAgentsModule(builder.Configuration);
// Several nodes on one database: a session's sandbox calls go to the node holding it (ADR 0015).
builder.Services.AddSandboxModule(builder.Configuration).AddSandboxNodes();
builder.Services.AddKnowledgeModule(builder.Configuration);
builder.Services.AddWebModule(builder.Configuration);
builder.Services.AddMcpToolsModule(builder.Configuration);
builder.Services.AddChatModule(builder.Configuration);
builder.Services.ConnectModules();
builder.Services.AddConclaveMcpServer();

var app = builder.Build();

app.MapWeb();
// Every module endpoint sits under /api and takes the API policy: bearer token with the right scope, or the UI cookie.
var api = app.MapGroup("").RequireAuthorization(IdentityPolicies.Api);
api.MapSessionsModule();
api.MapAgentsModule();
api.MapSandboxModule();
api.MapKnowledgeModule();
api.MapMcpToolsModule();
// Conclave as an MCP server, for tokens issued to it (ADR 0020).
app.MapConclaveMcpServer();
// Slack calls these itself: each request is verified by its signature, not by a sign-in.
app.MapChatModule();

app.Run();

/// <summary>The entry point, visible to the functional tests' WebApplicationFactory.</summary>
public partial class Program;
