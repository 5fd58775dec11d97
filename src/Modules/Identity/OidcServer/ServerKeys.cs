using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using OpenIddict.Server;

namespace Conclave.Identity.OidcServer;

/// <summary>
/// The OpenID Connect server's signing and encryption certificates: from the configured PFX files,
/// or generated once and kept in <c>identity.server_keys</c> so tokens survive restarts and every
/// replica signs with the same key. Runs when OpenIddict's options are first read.
/// </summary>
internal sealed class ServerKeys(IConfiguration configuration, IOptions<ConclaveIdentityOptions> options, ILogger<ServerKeys> logger)
    : IConfigureOptions<OpenIddictServerOptions>
{
    private const string Signing = "signing";
    private const string Encryption = "encryption";

    public void Configure(OpenIddictServerOptions server)
    {
        var settings = options.Value;
        var signing = settings.SigningCertificatePath is { Length: > 0 } signingPath
            ? X509CertificateLoader.LoadPkcs12FromFile(signingPath, settings.SigningCertificatePassword, X509KeyStorageFlags.EphemeralKeySet)
            : Stored(Signing, X509KeyUsageFlags.DigitalSignature);
        var encryption = settings.EncryptionCertificatePath is { Length: > 0 } encryptionPath
            ? X509CertificateLoader.LoadPkcs12FromFile(encryptionPath, settings.EncryptionCertificatePassword, X509KeyStorageFlags.EphemeralKeySet)
            : Stored(Encryption, X509KeyUsageFlags.KeyEncipherment);

        server.SigningCredentials.Add(new Microsoft.IdentityModel.Tokens.X509SigningCredentials(signing));
        server.EncryptionCredentials.Add(new Microsoft.IdentityModel.Tokens.X509EncryptingCredentials(
            encryption, Microsoft.IdentityModel.Tokens.SecurityAlgorithms.RsaOAEP, Microsoft.IdentityModel.Tokens.SecurityAlgorithms.Aes256CbcHmacSha512));
    }

    private X509Certificate2 Stored(string use, X509KeyUsageFlags usage)
    {
        var connectionString = configuration.GetConnectionString("Conclave")
            ?? throw new InvalidOperationException("ConnectionStrings:Conclave is not set.");
        using var connection = new NpgsqlConnection(connectionString);
        connection.Open();
        using (var create = new NpgsqlCommand(
            "CREATE SCHEMA IF NOT EXISTS identity; " +
            "CREATE TABLE IF NOT EXISTS identity.server_keys (use text PRIMARY KEY, pfx bytea NOT NULL, created_at timestamptz NOT NULL DEFAULT now())",
            connection))
        {
            try
            {
                create.ExecuteNonQuery();
            }
            catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.DuplicateObject)
            {
                // Another replica created it at the same moment.
            }
        }

        // Insert-if-absent then read: replicas starting together all end up with the first one's key.
        using (var insert = new NpgsqlCommand(
            "INSERT INTO identity.server_keys (use, pfx) VALUES (@use, @pfx) ON CONFLICT (use) DO NOTHING", connection))
        {
            insert.Parameters.AddWithValue("use", use);
            insert.Parameters.AddWithValue("pfx", Generate(use, usage));
            if (insert.ExecuteNonQuery() == 1)
            {
                logger.LogInformation("Generated the OpenID Connect {KeyUse} certificate", use);
            }
        }

        using var select = new NpgsqlCommand("SELECT pfx FROM identity.server_keys WHERE use = @use", connection);
        select.Parameters.AddWithValue("use", use);
        var pfx = (byte[])select.ExecuteScalar()!;
        return X509CertificateLoader.LoadPkcs12(pfx, password: null, X509KeyStorageFlags.EphemeralKeySet);
    }

    private static byte[] Generate(string use, X509KeyUsageFlags usage)
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest($"CN=Conclave {use}", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(usage, critical: true));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddYears(10));
        return certificate.Export(X509ContentType.Pfx);
    }
}
