using Conclave.Agents;
using Conclave.Host.Composition;
using Conclave.Sandbox;
using Conclave.Sessions;

var builder = WebApplication.CreateBuilder(args);

builder.AddPersistenceAndMessaging();
builder.AddWeb();
builder.Services.AddSessionsModule();
builder.Services.AddAgentsModule(builder.Configuration);
builder.Services.AddSandboxModule(builder.Configuration);

var app = builder.Build();

app.MapWeb();
app.MapSessionsModule();
app.MapAgentsModule();
app.MapSandboxModule();

app.Run();

/// <summary>The entry point, visible to the functional tests' WebApplicationFactory.</summary>
public partial class Program;
