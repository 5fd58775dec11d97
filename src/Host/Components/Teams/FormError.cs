namespace Conclave.Host.Components.Teams;

/// <summary>A validation error the store reported, by the field's API name (e.g. <c>agents[1].name</c>).</summary>
public sealed record FormError(string Field, string Message);
