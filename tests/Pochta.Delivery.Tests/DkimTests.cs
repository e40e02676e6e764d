using MimeKit;
using MimeKit.Cryptography;

using Pochta.Delivery.Tests.Fakes;

namespace Pochta.Delivery.Tests;

public sealed class DkimTests : IAsyncLifetime
{
    private readonly Harness _h = new();
    private readonly FakeSmtpServer _server = new();
    private IReadOnlyList<DkimKeyInfo> _keys = [];

    public async Task InitializeAsync()
    {
        _h.Options.TransportMap["remote.test"] = _server.Endpoint;
        _keys = await _h.EnableDkimAsync("pochta.test");
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _h.Dispose();
    }

    /// <summary>Answers DKIM key queries from the generated TXT record values (no DNS).</summary>
    private sealed class KeyLocator(IReadOnlyList<DkimKeyInfo> keys) : DkimPublicKeyLocatorBase
    {
        public override Org.BouncyCastle.Crypto.AsymmetricKeyParameter LocatePublicKey(string methods, string domain, string selector, CancellationToken cancellationToken = default) =>
            GetPublicKey(keys.Single(k => k.Domain == domain && k.Selector == selector).DnsRecordValue);

        public override Task<Org.BouncyCastle.Crypto.AsymmetricKeyParameter> LocatePublicKeyAsync(string methods, string domain, string selector, CancellationToken cancellationToken = default) =>
            Task.FromResult(LocatePublicKey(methods, domain, selector, cancellationToken));
    }

    private async Task<MimeMessage> SendAsync(string message)
    {
        var entry = _h.Store.Enqueue("alice@pochta.test", message, _h.Time.GetUtcNow(), "bob@remote.test");
        await _h.RunAsync(entry.Id);
        return MimeMessage.Load(new MemoryStream(_server.Delivered.Last().Data!));
    }

    private async Task AssertVerifiesAsync(MimeMessage received)
    {
        var signatures = received.Headers.Where(h => h.Id == HeaderId.DkimSignature).ToList();
        Assert.Equal(2, signatures.Count); // RSA-2048 and Ed25519 (RFC 8463)
        var verifier = new DkimVerifier(new KeyLocator(_keys));
        foreach (var signature in signatures)
        {
            Assert.Contains("d=pochta.test", signature.Value, StringComparison.Ordinal);
            Assert.Contains("c=relaxed/relaxed", signature.Value, StringComparison.Ordinal);
            Assert.True(await verifier.VerifyAsync(received, signature), "signature does not verify: " + signature.Value);
        }

        Assert.Contains(signatures, s => s.Value.Contains("a=rsa-sha256", StringComparison.Ordinal));
        Assert.Contains(signatures, s => s.Value.Contains("a=ed25519-sha256", StringComparison.Ordinal));
    }

    [Fact]
    public void Rotation_creates_an_rsa_and_an_ed25519_key_with_their_txt_records()
    {
        Assert.Equal(2, _keys.Count);
        var rsa = _keys.Single(k => k.Algorithm == DkimSignatureAlgorithm.RsaSha256);
        var ed = _keys.Single(k => k.Algorithm == DkimSignatureAlgorithm.Ed25519Sha256);
        Assert.StartsWith("v=DKIM1; k=rsa; p=", rsa.DnsRecordValue, StringComparison.Ordinal);
        Assert.StartsWith("v=DKIM1; k=ed25519; p=", ed.DnsRecordValue, StringComparison.Ordinal);
        Assert.Equal(32, Convert.FromBase64String(ed.DnsRecordValue["v=DKIM1; k=ed25519; p=".Length..]).Length); // RFC 8463 §4.2
        Assert.Equal("r20261201._domainkey.pochta.test", rsa.DnsName);
    }

    [Fact]
    public async Task Key_files_are_readable_by_the_owner_only()
    {
        var keys = await _h.DkimKeys!.RotateAsync("pochta.test", CancellationToken.None);
        Assert.Equal(2, keys.Count);
        if (!OperatingSystem.IsWindows())
        {
            foreach (var k in keys)
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(k.Path));
            }
        }
    }

    [Fact]
    public async Task A_second_rotation_the_same_day_gets_fresh_selectors_and_keeps_old_keys()
    {
        var second = await _h.DkimKeys!.RotateAsync("pochta.test", CancellationToken.None);
        Assert.Empty(second.Select(k => k.Selector).Intersect(_keys.Select(k => k.Selector)));
        Assert.Equal(4, _h.DkimKeys.ListKeys("pochta.test").Count);
        Assert.Equal(second.Select(k => k.Selector), _h.DkimKeys.GetActiveKeys("pochta.test").Select(k => k.Selector));
        Assert.Equal(second.Select(k => k.Selector), (await _h.DkimKeys.EnsureKeysAsync("pochta.test", CancellationToken.None)).Select(k => k.Selector));
    }

    [Fact]
    public async Task Mail_from_a_local_domain_is_signed_and_verifies()
    {
        var received = await SendAsync(Harness.Message);
        await AssertVerifiesAsync(received);
    }

    [Fact]
    public async Task The_signature_still_verifies_after_conversion_for_a_seven_bit_server()
    {
        // Regression: the message was signed before MailKit re-encoded it for a server without
        // 8BITMIME, so the body hash no longer matched what was sent.
        _server.EightBitMime = false;
        var received = await SendAsync(Harness.Message);
        Assert.NotEqual(ContentEncoding.EightBit, ((MimePart)received.Body!).ContentTransferEncoding);
        await AssertVerifiesAsync(received);
    }

    [Fact]
    public async Task After_a_rotation_mail_is_signed_with_the_new_keys()
    {
        await AssertVerifiesAsync(await SendAsync(Harness.Message));
        _keys = await _h.DkimKeys!.RotateAsync("pochta.test", CancellationToken.None);
        var received = await SendAsync(Harness.Message);
        var selectors = received.Headers.Where(h => h.Id == HeaderId.DkimSignature)
            .Select(h => h.Value.Split(';').Select(t => t.Trim()).Single(t => t.StartsWith("s=", StringComparison.Ordinal))[2..]);
        Assert.Equal(_keys.Select(k => k.Selector).Order(), selectors.Order());
        await AssertVerifiesAsync(received);
    }

    [Fact]
    public async Task Mail_from_another_domain_is_not_signed()
    {
        var received = await SendAsync(Harness.Message.Replace("From: Alice <alice@pochta.test>", "From: Zed <zed@elsewhere.test>", StringComparison.Ordinal));
        Assert.DoesNotContain(received.Headers, h => h.Id == HeaderId.DkimSignature);
    }

    [Fact]
    public void Invalid_domain_names_are_refused_by_the_key_store()
    {
        Assert.Throws<ArgumentException>(() => _h.DkimKeys!.GetActiveKeys("../etc"));
        Assert.Throws<ArgumentException>(() => _h.DkimKeys!.GetActiveKeys(""));
    }
}