using System.Text;

using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;

using MimeKit;
using MimeKit.Cryptography;

using Pochta.Core;
using Pochta.Delivery.Outbound;

namespace Pochta.Interop.Tests;

/// <summary>Issue 6 interop: Postfix from Debian's packages as the remote MTA receiving
/// Pochta's outbound deliveries, and sending to Pochta.</summary>
[Collection(DebianMailCollection.Name)]
public sealed class PostfixInteropTests(DebianMailFixture fixture)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    /// <summary>Public keys straight from the key store (what DNS would publish).</summary>
    private sealed class KeyStoreLocator(IReadOnlyList<DkimKeyInfo> keys) : DkimPublicKeyLocatorBase
    {
        public override Org.BouncyCastle.Crypto.AsymmetricKeyParameter LocatePublicKey(string methods, string domain, string selector, CancellationToken cancellationToken = default) =>
            GetPublicKey(keys.Single(k => k.Domain == domain && k.Selector == selector).DnsRecordValue);

        public override Task<Org.BouncyCastle.Crypto.AsymmetricKeyParameter> LocatePublicKeyAsync(string methods, string domain, string selector, CancellationToken cancellationToken = default) =>
            Task.FromResult(LocatePublicKey(methods, domain, selector, cancellationToken));
    }

    /// <summary>Asks for success and failure notices with an envelope id (RFC 3461).</summary>
    private sealed class DsnRequestingClient(string envelopeId) : SmtpClient
    {
        protected override DeliveryStatusNotification? GetDeliveryStatusNotifications(MimeMessage message, MailboxAddress mailbox) =>
            DeliveryStatusNotification.Success | DeliveryStatusNotification.Failure;

        protected override string GetEnvelopeId(MimeMessage message) => envelopeId;
    }

    private static string Lf(string text) => text.Replace("\r\n", "\n", StringComparison.Ordinal);

    [RequiresToolAsRootFact("postfix", "dovecot")]
    public async Task Pochta_delivers_to_Postfix_signed_over_starttls_and_bounces_the_refused_recipient_only()
    {
        const string Body = "Hello from Pochta.\r\n.a line that starts with a dot\r\nGrüße, with 8-bit text.\r\n";
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse($"alice@{DebianMailFixture.PochtaDomain}"));
        message.To.Add(MailboxAddress.Parse($"dave@{DebianMailFixture.PostfixDomain}"));
        message.Cc.Add(MailboxAddress.Parse($"nobody@{DebianMailFixture.PostfixDomain}"));
        message.Subject = "to postfix";
        message.MessageId = MimeKit.Utils.MimeUtils.GenerateMessageId("example.test");
        message.Body = new TextPart("plain") { Text = Body };

        using (var client = new SmtpClient { ServerCertificateValidationCallback = (_, c, _, _) => fixture.IsPochtaCertificate(c) })
        {
            await client.ConnectAsync("127.0.0.1", fixture.Pochta.Port(MailProtocol.Submission), SecureSocketOptions.StartTls);
            await client.AuthenticateAsync($"alice@{DebianMailFixture.PochtaDomain}", DebianMailFixture.Password);
            await client.SendAsync(message);
            await client.DisconnectAsync(true);
        }

        // Delivered by Postfix's virtual(8) into dave's Maildir.
        var file = Assert.Single(await fixture.WaitForMaildirAsync("dave", 1, Patience));
        var bytes = await File.ReadAllBytesAsync(file);
        using var delivered = MimeMessage.Load(new MemoryStream(bytes));
        Assert.Equal(message.MessageId, delivered.MessageId);
        Assert.Equal(Lf(Body), Lf(Assert.IsType<TextPart>(delivered.Body).Text));

        // Pochta used STARTTLS to Postfix (Postfix's Received field records it) and EHLO localhost.
        var received = delivered.Headers.First(h => h.Id == HeaderId.Received).Value;
        Assert.Contains("from localhost (localhost [127.0.0.1])", received, StringComparison.Ordinal);
        Assert.Contains("using TLSv1.", received, StringComparison.Ordinal);

        // Both DKIM signatures (RSA and Ed25519) verify on the bytes Postfix stored.
        var signatures = delivered.Headers.Where(h => h.Id == HeaderId.DkimSignature).ToList();
        Assert.Equal(2, signatures.Count);
        var verifier = new DkimVerifier(new KeyStoreLocator(fixture.DkimKeys));
        verifier.Enable(DkimSignatureAlgorithm.Ed25519Sha256);
        foreach (var signature in signatures)
        {
            Assert.Contains("d=example.test", signature.Value, StringComparison.Ordinal);
            Assert.True(await verifier.VerifyAsync(delivered, signature), "DKIM signature does not verify: " + signature.Value);
        }

        // Postfix refused nobody@ at RCPT (550 5.1.1): a failure DSN for that recipient only,
        // into the local sender's INBOX.
        var dsnBytes = Assert.Single(await fixture.WaitForPochtaAsync($"alice@{DebianMailFixture.PochtaDomain}", 1, Patience));
        using var dsn = MimeMessage.Load(new MemoryStream(dsnBytes));
        var report = Assert.IsType<MultipartReport>(dsn.Body);
        Assert.Equal("delivery-status", report.ReportType);
        var status = report.OfType<MessageDeliveryStatus>().Single();
        var groups = status.StatusGroups.ToList();
        Assert.True(groups.Count == 2, Encoding.UTF8.GetString(dsnBytes));
        Assert.Equal("dns; localhost", groups[0]["Reporting-MTA"]);
        var recipient = groups[1];
        Assert.Equal("rfc822; nobody@postfix.test", recipient["Final-Recipient"]);
        Assert.Equal("failed", recipient["Action"]);
        Assert.Equal("5.1.1", recipient["Status"]);
        Assert.Contains("127.0.0.1", recipient["Remote-MTA"], StringComparison.Ordinal);
        Assert.StartsWith("smtp; 550 5.1.1", recipient["Diagnostic-Code"], StringComparison.Ordinal);
        Assert.Contains("User unknown in virtual mailbox table", recipient["Diagnostic-Code"], StringComparison.Ordinal);
        var explanation = Assert.IsType<TextPart>(report[0]).Text;
        Assert.Contains("<nobody@postfix.test>: 550 5.1.1", explanation, StringComparison.Ordinal);
        Assert.DoesNotContain("dave@", explanation, StringComparison.Ordinal);

        // Nothing of the message is left in Pochta's queue. The DSN is committed before the
        // outcomes (a crash in between repeats the notice rather than losing it), and outcomes
        // are batched (Outbound:OutcomeCommitDelay), so the entry leaves the queue just after.
        static bool ForPostfix(Pochta.Storage.QueueEntryInfo e) => e.Recipients.Any(r => r.Address.EndsWith("@" + DebianMailFixture.PostfixDomain, StringComparison.Ordinal));
        var deadline = DateTime.UtcNow + Patience;
        var queued = await fixture.Pochta.Store.Queue.ListAsync(CancellationToken.None);
        while (queued.Any(ForPostfix) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
            queued = await fixture.Pochta.Store.Queue.ListAsync(CancellationToken.None);
        }

        Assert.DoesNotContain(queued, ForPostfix);
    }

    [RequiresToolAsRootFact("postfix", "dovecot")]
    public async Task Postfix_sendmail_delivers_to_Pochta_over_starttls_and_bounces_an_unknown_Pochta_user()
    {
        const string Body = "From Postfix's sendmail.\n.a dotted line\nlast line\n";
        var text = $"From: Frank <frank@{DebianMailFixture.PostfixDomain}>\nTo: erin@{DebianMailFixture.PochtaDomain}, ghost@{DebianMailFixture.PochtaDomain}\nSubject: from postfix\nMessage-ID: <postfix-to-pochta@postfix.test>\n\n{Body}";
        await fixture.SendmailAsync($"frank@{DebianMailFixture.PostfixDomain}", [$"erin@{DebianMailFixture.PochtaDomain}", $"ghost@{DebianMailFixture.PochtaDomain}"], text);

        // Arrives in erin's Pochta INBOX: Pochta's trace fields on top of Postfix's, body intact.
        var stored = Encoding.UTF8.GetString(Assert.Single(await fixture.WaitForPochtaAsync($"erin@{DebianMailFixture.PochtaDomain}", 1, Patience)));
        Assert.StartsWith("Return-Path: <frank@postfix.test>\r\nReceived: from mx.postfix.test (", stored, StringComparison.Ordinal);
        var pochtaReceived = stored.Split("\r\nReceived: ")[1];
        Assert.Contains("by localhost (Pochta) with ESMTPS (TLSv1.", pochtaReceived, StringComparison.Ordinal);
        Assert.Contains("by mx.postfix.test (Postfix", stored, StringComparison.Ordinal);
        Assert.Contains("\r\nSubject: from postfix\r\n", stored, StringComparison.Ordinal);
        Assert.EndsWith("\r\n\r\n" + Body.Replace("\n", "\r\n", StringComparison.Ordinal), stored, StringComparison.Ordinal);

        // Pochta refused ghost@ at RCPT; Postfix bounces it to frank with Pochta's reply.
        var bounceFile = Assert.Single(await fixture.WaitForMaildirAsync("frank", 1, Patience));
        using var bounce = MimeMessage.Load(bounceFile);
        Assert.Contains("MAILER-DAEMON", bounce.From.ToString(), StringComparison.OrdinalIgnoreCase);
        var report = Assert.IsType<MultipartReport>(bounce.Body);
        var status = report.OfType<MessageDeliveryStatus>().Single();
        var recipient = Assert.Single(status.StatusGroups.Skip(1));
        Assert.Equal("rfc822; ghost@example.test", recipient["Final-Recipient"]);
        Assert.Equal("failed", recipient["Action"]);
        Assert.Equal("5.1.1", recipient["Status"]);
        Assert.StartsWith("smtp; 550 5.1.1", recipient["Diagnostic-Code"], StringComparison.Ordinal);
    }

    [RequiresToolAsRootFact("postfix", "dovecot")]
    public async Task Pochta_relays_NOTIFY_and_ENVID_so_Postfix_returns_a_success_DSN_to_the_Pochta_sender()
    {
        var envelopeId = "pochta-envid-" + Guid.NewGuid().ToString("N");
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse($"grace@{DebianMailFixture.PochtaDomain}"));
        message.To.Add(MailboxAddress.Parse($"heidi@{DebianMailFixture.PostfixDomain}"));
        message.Subject = "tell me when it arrives";
        message.Body = new TextPart("plain") { Text = "Please confirm.\r\n" };

        using (var client = new DsnRequestingClient(envelopeId) { ServerCertificateValidationCallback = (_, c, _, _) => fixture.IsPochtaCertificate(c) })
        {
            await client.ConnectAsync("127.0.0.1", fixture.Pochta.Port(MailProtocol.Submission), SecureSocketOptions.StartTls);
            Assert.True(client.Capabilities.HasFlag(SmtpCapabilities.Dsn));
            await client.AuthenticateAsync($"grace@{DebianMailFixture.PochtaDomain}", DebianMailFixture.Password);
            await client.SendAsync(message);
            await client.DisconnectAsync(true);
        }

        Assert.Single(await fixture.WaitForMaildirAsync("heidi", 1, Patience));

        // Postfix's "delivered" notice travels back through its transport map to Pochta's MX.
        // Postfix offers DSN, so Pochta sends no "relayed" notice of its own: one message only.
        var noticeBytes = Assert.Single(await fixture.WaitForPochtaAsync($"grace@{DebianMailFixture.PochtaDomain}", 1, Patience));
        using var notice = MimeMessage.Load(new MemoryStream(noticeBytes));
        Assert.StartsWith("Return-Path: <>\r\n", Encoding.UTF8.GetString(noticeBytes), StringComparison.Ordinal);
        Assert.Contains("MAILER-DAEMON@postfix.test", notice.From.ToString(), StringComparison.OrdinalIgnoreCase);
        var report = Assert.IsType<MultipartReport>(notice.Body);
        Assert.Equal("delivery-status", report.ReportType);
        var groups = report.OfType<MessageDeliveryStatus>().Single().StatusGroups.Where(g => g.Count > 0).ToList();
        Assert.Equal(envelopeId, groups[0]["Original-Envelope-Id"]);
        var recipient = Assert.Single(groups.Skip(1));
        Assert.Equal("rfc822; heidi@postfix.test", recipient["Final-Recipient"]);
        Assert.Equal("delivered", recipient["Action"]);
        Assert.StartsWith("2.", recipient["Status"], StringComparison.Ordinal);
    }

    [RequiresToolAsRootFact("postfix", "dovecot")]
    public async Task Postfix_relays_through_Pochta_submission_with_starttls_and_sasl_as_its_smart_host()
    {
        // The sender is grace's own address: Pochta's submission checks that the authenticated
        // account owns the envelope sender.
        var text = $"From: grace@{DebianMailFixture.PochtaDomain}\nTo: ivan@{DebianMailFixture.SubmissionDomain}\nSubject: via the smart host\n\nrelayed by Postfix\n";
        await fixture.SendmailAsync($"grace@{DebianMailFixture.PochtaDomain}", [$"ivan@{DebianMailFixture.SubmissionDomain}"], text);

        var stored = Encoding.UTF8.GetString(Assert.Single(await fixture.WaitForPochtaAsync($"ivan@{DebianMailFixture.SubmissionDomain}", 1, Patience)));
        Assert.StartsWith("Return-Path: <grace@example.test>\r\nReceived: from mx.postfix.test (", stored, StringComparison.Ordinal);

        // Authenticated over TLS (RFC 3848 ESMTPSA): Postfix's Cyrus SASL client against Pochta's mechanisms.
        Assert.Contains("by localhost (Pochta) with ESMTPSA (TLSv1.", stored.Split("\r\nReceived: ")[1], StringComparison.Ordinal);
        Assert.EndsWith("\r\n\r\nrelayed by Postfix\r\n", stored, StringComparison.Ordinal);
        var log = await File.ReadAllTextAsync(fixture.PostfixLog);
        Assert.Contains("to=<ivan@submit.test>, relay=127.0.0.1[127.0.0.1]:", log, StringComparison.Ordinal);
    }
}