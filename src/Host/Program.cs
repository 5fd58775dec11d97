using Conclave.Agents;
using Conclave.Host.Composition;
using Conclave.Sessions;

var builder = WebApplication.CreateBuilder(args);

builder.AddPersistenceAndMessaging();
builder.AddWeb();
builder.Services.AddSessionsModule();
builder.Services.AddAgentsModule(builder.Configuration);

var app = builder.Build();

app.MapWeb();
app.MapSessionsModule();

app.Run();

/// <summary>The entry point, visible to the functional tests' WebApplicationFactory.</summary>
public partial class Program;
