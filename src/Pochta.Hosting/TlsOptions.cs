namespace Pochta.Hosting;

/// <summary>Configuration section <c>Tls</c>. With neither path set, a self-signed certificate
/// for <see cref="ServerOptions.HostName"/> is generated on first start under the data
/// directory and reused afterwards.</summary>
public sealed class TlsOptions
{
    public const string Section = "Tls";

    /// <summary>PEM certificate (chain) file.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>PEM private key file (PKCS#8 or PKCS#1). Secret: masked in <c>config show</c>.</summary>
    public string? KeyPath { get; set; }
}