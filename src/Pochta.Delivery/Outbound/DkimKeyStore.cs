using System.Globalization;
using System.Security.Cryptography;

using MimeKit.Cryptography;

using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.OpenSsl;
using Org.BouncyCastle.Pkcs;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.X509;

namespace Pochta.Delivery.Outbound;

/// <summary>A DKIM key on disk and the TXT record that publishes it (RFC 6376 §3.6.1, RFC 8463).</summary>
public sealed record DkimKeyInfo(string Domain, string Selector, DkimSignatureAlgorithm Algorithm, string Path, string DnsRecordValue)
{
    /// <summary>The owner name of the TXT record.</summary>
    public string DnsName => Selector + "._domainkey." + Domain;
}

/// <summary>
/// Per-domain DKIM keys as PEM (PKCS#8) files: <c>&lt;dir&gt;/&lt;domain&gt;/&lt;selector&gt;.pem</c>.
/// The file <c>&lt;dir&gt;/&lt;domain&gt;/active</c> names the selectors used for signing, one per
/// line. A rotation creates an RSA-2048 and an Ed25519 key (RFC 8463 §1 advises signing with
/// both until Ed25519 verifiers are common) and makes them active; old keys stay on disk so
/// their DNS records can be withdrawn after mail in flight has been verified.
/// </summary>
public sealed class DkimKeyStore(string directory, TimeProvider timeProvider)
{
    private const string ActiveFile = "active";

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (long Stamp, List<(DkimKeyInfo Info, AsymmetricKeyParameter Key)> Keys)> _signingKeys =
        new(StringComparer.Ordinal);

    public string Directory { get; } = directory;

    /// <summary>Every key of a domain, active or not, ordered by selector.</summary>
    public IReadOnlyList<DkimKeyInfo> ListKeys(string domain)
    {
        var dir = DomainDirectory(domain);
        if (!System.IO.Directory.Exists(dir))
        {
            return [];
        }

        return System.IO.Directory.EnumerateFiles(dir, "*.pem")
            .Order(StringComparer.Ordinal)
            .Select(path => Load(domain, path))
            .ToList();
    }

    /// <summary>The keys to sign with (empty when the domain has none).</summary>
    public IReadOnlyList<DkimKeyInfo> GetActiveKeys(string domain)
    {
        var dir = DomainDirectory(domain);
        var active = Path.Combine(dir, ActiveFile);
        if (!File.Exists(active))
        {
            return [];
        }

        var result = new List<DkimKeyInfo>();
        foreach (var line in File.ReadLines(active))
        {
            var selector = line.Trim();
            if (IsValidSelector(selector))
            {
                var path = Path.Combine(dir, selector + ".pem");
                if (File.Exists(path))
                {
                    result.Add(Load(domain, path));
                }
            }
        }

        return result;
    }

    /// <summary>Creates keys for a new domain unless it already has active ones (idempotent;
    /// for <c>pochta domain add</c>).</summary>
    public async Task<IReadOnlyList<DkimKeyInfo>> EnsureKeysAsync(string domain, CancellationToken cancellationToken)
    {
        var existing = GetActiveKeys(domain);
        return existing.Count > 0 ? existing : await RotateAsync(domain, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Generates a new RSA-2048 and Ed25519 key with fresh selectors and makes them the active pair.</summary>
    public async Task<IReadOnlyList<DkimKeyInfo>> RotateAsync(string domain, CancellationToken cancellationToken)
    {
        var dir = DomainDirectory(domain);
        System.IO.Directory.CreateDirectory(dir);
        var stamp = timeProvider.GetUtcNow().ToString("yyyyMMdd", CultureInfo.InvariantCulture);

        var rsaSelector = FreeSelector(dir, "r" + stamp);
        string rsaPem;
        using (var rsa = RSA.Create(2048))
        {
            rsaPem = rsa.ExportPkcs8PrivateKeyPem();
        }

        var edSelector = FreeSelector(dir, "e" + stamp);
        var generator = new Ed25519KeyPairGenerator();
        generator.Init(new Ed25519KeyGenerationParameters(new SecureRandom()));
        var pair = generator.GenerateKeyPair();
        var edPem = PemEncoding.WriteString("PRIVATE KEY", PrivateKeyInfoFactory.CreatePrivateKeyInfo(pair.Private).GetEncoded());

        await WriteSecretAsync(Path.Combine(dir, rsaSelector + ".pem"), rsaPem, cancellationToken).ConfigureAwait(false);
        await WriteSecretAsync(Path.Combine(dir, edSelector + ".pem"), edPem, cancellationToken).ConfigureAwait(false);
        await WriteSecretAsync(Path.Combine(dir, ActiveFile), rsaSelector + "\n" + edSelector + "\n", cancellationToken).ConfigureAwait(false);
        return GetActiveKeys(domain);
    }

    /// <summary>Signers for the active keys of a domain (RSA first). The parsed keys are cached
    /// per domain and reloaded when the <c>active</c> file changes (a rotation rewrites it), so
    /// signing does not read and parse PEM files for every message.</summary>
    public IReadOnlyList<DkimSigner> CreateSigners(string domain)
    {
        var active = Path.Combine(DomainDirectory(domain), ActiveFile);
        var stamp = File.Exists(active) ? File.GetLastWriteTimeUtc(active).Ticks ^ new FileInfo(active).Length : 0;
        if (!_signingKeys.TryGetValue(active, out var cached) || cached.Stamp != stamp)
        {
            var keys = GetActiveKeys(domain)
                .OrderBy(k => k.Algorithm == DkimSignatureAlgorithm.Ed25519Sha256)
                .Select(k => (Info: k, Key: ReadPrivateKey(k.Path)))
                .ToList();
            cached = (stamp, keys);
            _signingKeys[active] = cached;
        }

        // DkimSigner objects are cheap; a fresh one per message keeps signing free of shared state.
        return cached.Keys.Select(k => new DkimSigner(k.Key, k.Info.Domain, k.Info.Selector, k.Info.Algorithm)
        {
            HeaderCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed,
            BodyCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed,
        }).ToList();
    }

    private string DomainDirectory(string domain)
    {
        var name = domain.Trim().TrimEnd('.').ToLowerInvariant();
        if (name.Length == 0 || name[0] == '[' || name.Contains('/', StringComparison.Ordinal) ||
            name.Contains("..", StringComparison.Ordinal) || !Core.EmailAddress.IsValidDomain(name))
        {
            throw new ArgumentException("Not a valid domain name.", nameof(domain));
        }

        return Path.Combine(Directory, name);
    }

    private static bool IsValidSelector(string selector) =>
        selector.Length is > 0 and <= 63 && selector.All(c => char.IsAsciiLetterOrDigit(c) || c == '-');

    private static string FreeSelector(string dir, string baseName)
    {
        var name = baseName;
        for (var i = 2; File.Exists(Path.Combine(dir, name + ".pem")); i++)
        {
            name = baseName + "-" + i.ToString(CultureInfo.InvariantCulture);
        }

        return name;
    }

    /// <summary>Writes via a temporary file and rename, readable by the owner only.</summary>
    private static async Task WriteSecretAsync(string path, string contents, CancellationToken cancellationToken)
    {
        var temp = path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        await using (var stream = new FileStream(temp, options))
        {
            await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(contents), cancellationToken).ConfigureAwait(false);
            await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
    }

    private static AsymmetricKeyParameter ReadPrivateKey(string path)
    {
        using var reader = new StreamReader(path);
        var value = new PemReader(reader).ReadObject();
        return value switch
        {
            AsymmetricCipherKeyPair pair => pair.Private,
            AsymmetricKeyParameter { IsPrivate: true } key => key,
            _ => throw new InvalidDataException("Not a private key: " + path),
        };
    }

    private static DkimKeyInfo Load(string domain, string path)
    {
        var key = ReadPrivateKey(path);
        var selector = Path.GetFileNameWithoutExtension(path);
        return key switch
        {
            RsaPrivateCrtKeyParameters rsa => new DkimKeyInfo(domain, selector, DkimSignatureAlgorithm.RsaSha256, path,
                "v=DKIM1; k=rsa; p=" + Convert.ToBase64String(
                    SubjectPublicKeyInfoFactory.CreateSubjectPublicKeyInfo(new RsaKeyParameters(false, rsa.Modulus, rsa.PublicExponent)).GetEncoded())),

            // RFC 8463 §4.2: the p= value is the raw 32-byte public key, base64.
            Ed25519PrivateKeyParameters ed => new DkimKeyInfo(domain, selector, DkimSignatureAlgorithm.Ed25519Sha256, path,
                "v=DKIM1; k=ed25519; p=" + Convert.ToBase64String(ed.GeneratePublicKey().GetEncoded())),
            _ => throw new InvalidDataException("Unsupported DKIM key type: " + path),
        };
    }
}