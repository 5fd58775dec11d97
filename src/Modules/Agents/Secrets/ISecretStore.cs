namespace Conclave.Agents.Secrets;

/// <summary>
/// The one place secrets (provider keys) are encrypted for storage and decrypted for use. Plain
/// text goes in and comes out only here; what is stored is the ciphertext.
/// </summary>
internal interface ISecretStore
{
    string Protect(string plaintext);

    /// <summary>Throws <see cref="System.Security.Cryptography.CryptographicException"/> when the ciphertext cannot be decrypted (e.g. the key ring was lost).</summary>
    string Unprotect(string ciphertext);
}
