namespace Conclave.Knowledge.Contracts;

/// <summary>The collection or document does not exist or belongs to someone else.</summary>
public sealed class KnowledgeNotFoundException(string what, Guid id) : Exception($"{what} {id} was not found.")
{
    public Guid Id { get; } = id;
}

/// <summary>Input a user can fix; <see cref="Field"/> names the offending field.</summary>
public sealed class KnowledgeValidationException(string field, string message) : Exception(message)
{
    public string Field { get; } = field;
}

/// <summary>A configured limit refused the request; <see cref="Limit"/> is the setting's name (e.g. MaxDocumentBytes).</summary>
public sealed class KnowledgeLimitException(string limit, string message) : Exception(message)
{
    public string Limit { get; } = limit;
}
