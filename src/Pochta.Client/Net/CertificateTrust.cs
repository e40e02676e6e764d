using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

using Pochta.Client.Cli;

namespace Pochta.Client.Net;

/// <summary>Adds an account's own trust anchor (a private CA or a pinned self-signed certificate)
/// to the normal checks. Host name mismatches are still refused; nothing is trusted blindly.</summary>
internal static class CertificateTrust
{
    public static RemoteCertificateValidationCallback ForCaFile(string caFile)
    {
        var anchors = new X509Certificate2Collection();
        try
        {
            anchors.ImportFromPemFile(caFile);
        }
        catch (Exception e) when (e is IOException or System.Security.Cryptography.CryptographicException)
        {
            throw ClientException.Usage($"cannot read CA file {caFile}: {e.Message}");
        }

        return (_, certificate, _, errors) =>
        {
            if (errors == SslPolicyErrors.None)
            {
                return true;
            }

            if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != 0)
            {
                return false; // name mismatch or no certificate: never overridden
            }

            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.AddRange(anchors);

            // A private CA publishes no revocation lists; trust in it is the user's explicit choice.
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            using var leaf = new X509Certificate2(certificate);
            return chain.Build(leaf);
        };
    }
}