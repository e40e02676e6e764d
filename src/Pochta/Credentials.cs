using Pochta.Sasl;

namespace Pochta;

/// <summary>Turns a password into the opaque credential the directory stores (Pochta.Sasl:
/// SCRAM-SHA-256 verifiers, PBKDF2-SHA256). The only place the CLI touches a password.</summary>
internal static class Credentials
{
    public static string Create(string password) => PasswordCredential.Create(password);
}