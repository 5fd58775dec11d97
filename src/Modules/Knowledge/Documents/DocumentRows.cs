using System.Security.Cryptography;
using Conclave.Knowledge.Contracts;
using Npgsql;

namespace Conclave.Knowledge.Documents;

/// <summary>Reads <c>knowledge.documents</c> rows (with their collection's session) into the contract.</summary>
internal static class DocumentRows
{
    public const string Select = """
        SELECT d.id, d.collection_id, d.owner_id, d.name, d.kind, d.size_bytes, d.sha256, d.version, d.state,
               d.chunks_embedded, d.chunks_total, d.pages, d.failure, d.created_at, d.updated_at, c.session_id
        FROM knowledge.documents d JOIN knowledge.collections c ON c.id = d.collection_id
        """;

    public static (KnowledgeDocument Document, Guid? SessionId) Read(NpgsqlDataReader reader) =>
        (new KnowledgeDocument(
            reader.GetGuid(0),
            reader.GetGuid(1),
            reader.GetString(2),
            reader.GetString(3),
            reader.IsDBNull(4) ? null : reader.GetString(4),
            reader.GetInt64(5),
            Convert.ToHexStringLower(reader.GetFieldValue<byte[]>(6)),
            reader.GetInt32(7),
            Enum.Parse<DocumentState>(reader.GetString(8)),
            reader.GetInt32(9),
            reader.GetInt32(10),
            reader.IsDBNull(11) ? null : reader.GetInt32(11),
            reader.IsDBNull(12) ? null : reader.GetString(12),
            reader.GetFieldValue<DateTimeOffset>(13),
            reader.GetFieldValue<DateTimeOffset>(14)),
         reader.IsDBNull(15) ? null : reader.GetGuid(15));

    public static async Task<(KnowledgeDocument Document, Guid? SessionId)?> FindAsync(
        NpgsqlConnection connection, Guid documentId, string? ownerId, CancellationToken cancellationToken, NpgsqlTransaction? transaction = null)
    {
        await using var command = new NpgsqlCommand(
            Select + " WHERE d.id = @id" + (ownerId is null ? "" : " AND d.owner_id = @owner"), connection, transaction);
        command.Parameters.AddWithValue("id", documentId);
        if (ownerId is not null)
        {
            command.Parameters.AddWithValue("owner", ownerId);
        }

        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    public static DocumentStateChanged Changed(KnowledgeDocument d, Guid? sessionId) =>
        new(d.Id, d.CollectionId, sessionId, d.OwnerId, d.Name, d.Version, d.State, d.ChunksEmbedded, d.ChunksTotal, d.Failure);

    public static byte[] Sha256(ReadOnlySpan<byte> content) => SHA256.HashData(content);
}
