using Conclave.Identity.Contracts;

namespace Conclave.Identity;

/// <summary><c>Conclave:Identity</c>: accounts, sign-in and the OpenID Connect server.</summary>
internal sealed class ConclaveIdentityOptions
{
    public const string Section = "Conclave:Identity";

    /// <summary>The registration mode until an admin changes it on the admin page.</summary>
    public RegistrationMode Registration { get; set; } = RegistrationMode.Invite;

    /// <summary>An admin account created at start-up when set with <see cref="AdminPassword"/> (and no such user exists).</summary>
    public string? AdminUserName { get; set; }

    public string? AdminEmail { get; set; }

    public string? AdminPassword { get; set; }

    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromHours(1);

    public TimeSpan RefreshTokenLifetime { get; set; } = TimeSpan.FromDays(14);

    /// <summary>
    /// PFX files for the token signing and encryption keys. When unset, certificates are generated
    /// once and kept in the database (<c>identity.server_keys</c>), so restarts and replicas share them.
    /// </summary>
    public string? SigningCertificatePath { get; set; }

    public string? SigningCertificatePassword { get; set; }

    public string? EncryptionCertificatePath { get; set; }

    public string? EncryptionCertificatePassword { get; set; }

    /// <summary>
    /// Serve sign-in (its cookies, the forms' antiforgery) and the OpenID Connect endpoints over plain HTTP: always so in
    /// Development and tests; elsewhere only to try Conclave on http://localhost (production sits behind TLS).
    /// </summary>
    public bool AllowHttp { get; set; }

    public ExternalLogin Google { get; set; } = new();

    public ExternalLogin GitHub { get; set; } = new();

    public sealed class ExternalLogin
    {
        public string? ClientId { get; set; }

        public string? ClientSecret { get; set; }

        public bool IsConfigured => !string.IsNullOrWhiteSpace(ClientId) && !string.IsNullOrWhiteSpace(ClientSecret);
    }
}
