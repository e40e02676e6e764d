using System.Security.Cryptography.X509Certificates;
using System.Text;

using MailKit.Net.Smtp;
using MailKit.Security;

using Microsoft.Extensions.DependencyInjection;

using MimeKit;

using Pochta.Core;
using Pochta.Delivery.Inbound;
using Pochta.Sasl;
using Pochta.Smtp;
using Pochta.Storage;
using Pochta.Storage.Sqlite;
using Pochta.Testing;

namespace Pochta.Interop.Tests;

/// <summary>Real SMTP clients against the real in-process server on loopback ports.</summary>
public class SmtpInteropTests
{
    private const string AlicePassword = "alice-secret-1";
    private const string BobPassword = "bob-secret-2";

    /// <summary>Starts the host with SMTP registered (the composition root may already do it;
    /// every registration here is idempotent).</summary>
    private static async Task<PochtaTestServer> StartAsync()
    {
        var options = new PochtaTestServerOptions
        {
            ConfigureServices = services =>
            {
                if (!services.Any(d => d.ServiceType == typeof(Pochta.Storage.IMailStore)))
                {
                    services.AddPochtaSqliteStore();
                }

                if (!services.Any(d => d.ServiceType == typeof(IAuthenticator)))
                {
                    services.AddPochtaSasl();
                }

                services.AddPochtaInbound();
                services.AddPochtaSmtp();
            },
        };
        options.Configuration["Server:HostName"] = "localhost";

        // Relayed mail stays queued: the "remote" domain routes to a closed loopback port (deferred).
        options.Configuration["Outbound:TransportMap:remote.example"] = "127.0.0.1:9";
        var server = await PochtaTestServer.StartAsync(options);
        // Accounts straight through the directory with a cheap PBKDF2 work factor (test speed).
        var ct = CancellationToken.None;
        await server.Store.Directory.AddDomainAsync("example.test", ct);
        await server.Store.Directory.AddAccountAsync("alice@example.test", PasswordCredential.Create(AlicePassword, 4096), 0, ct);
        await server.Store.Directory.AddAccountAsync("bob@example.test", PasswordCredential.Create(BobPassword, 4096), 0, ct);
        return server;
    }

    private static SmtpClient Client(PochtaTestServer server)
    {
        var pinned = X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(server.DataDirectory, "tls", "cert.pem")));
        return new SmtpClient
        {
            Timeout = 30_000,

            // The test server's own self-signed certificate, pinned (no trust-all callback).
            ServerCertificateValidationCallback = (_, certificate, _, _) => certificate is not null && certificate.GetRawCertData().AsSpan().SequenceEqual(pinned.RawData),
        };
    }

    private static MimeMessage Message(string from, string to, string subject, string body)
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(from));
        message.To.Add(MailboxAddress.Parse(to));
        message.Subject = subject;
        message.Body = new TextPart("plain") { Text = body };
        return message;
    }

    [Fact]
    public async Task MailKit_on_the_mx_port_uses_pipelining_and_chunking_then_data()
    {
        await using var server = await StartAsync();
        using var client = Client(server);
        await client.ConnectAsync("127.0.0.1", server.Port(MailProtocol.Smtp), SecureSocketOptions.None);
        var caps = client.Capabilities;
        foreach (var c in new[] { SmtpCapabilities.Pipelining, SmtpCapabilities.Chunking, SmtpCapabilities.BinaryMime, SmtpCapabilities.EightBitMime, SmtpCapabilities.UTF8, SmtpCapabilities.Dsn, SmtpCapabilities.EnhancedStatusCodes, SmtpCapabilities.Size, SmtpCapabilities.StartTLS })
        {
            Assert.True(caps.HasFlag(c), c.ToString());
        }

        Assert.Equal(25L * 1024 * 1024, (long)client.MaxSize);
        await client.SendAsync(Message("sender@remote.example", "alice@example.test", "chunked", "via BDAT ü"));

        // Without CHUNKING MailKit falls back to DATA (dot-stuffing on the wire).
        client.Capabilities &= ~(SmtpCapabilities.Chunking | SmtpCapabilities.BinaryMime);
        await client.SendAsync(Message("sender@remote.example", "alice@example.test", "dotted", "line one\r\n.leading dot\r\n"));

        var ex = await Assert.ThrowsAsync<SmtpCommandException>(() => client.SendAsync(Message("sender@remote.example", "someone@remote.example", "relay", "x")));
        Assert.Equal(SmtpStatusCode.TransactionFailed, ex.StatusCode);
        var unknown = await Assert.ThrowsAsync<SmtpCommandException>(() => client.SendAsync(Message("sender@remote.example", "nobody@example.test", "unknown", "x")));
        Assert.Equal(SmtpStatusCode.MailboxUnavailable, unknown.StatusCode);
        await client.DisconnectAsync(true);

        var inbox = (await server.ReadMailboxAsync("alice@example.test")).Select(Encoding.UTF8.GetString).ToList();
        Assert.Equal(2, inbox.Count);
        Assert.StartsWith("Return-Path: <sender@remote.example>\r\nReceived: from ", inbox[0], StringComparison.Ordinal);
        Assert.Contains("Subject: chunked", inbox[0], StringComparison.Ordinal);
        Assert.Contains("Subject: dotted", inbox[1], StringComparison.Ordinal);
        Assert.Contains("\r\n.leading dot\r\n", inbox[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task MailKit_submission_with_starttls_and_scram_auth()
    {
        await using var server = await StartAsync();
        using var client = Client(server);
        await client.ConnectAsync("127.0.0.1", server.Port(MailProtocol.Submission), SecureSocketOptions.StartTls);
        Assert.True(client.IsSecure);
        Assert.DoesNotContain("STARTTLS", client.Capabilities.ToString(), StringComparison.Ordinal);
        Assert.Contains("SCRAM-SHA-256", client.AuthenticationMechanisms);
        await client.AuthenticateAsync(new SaslMechanismScramSha256("alice@example.test", AlicePassword));
        await client.SendAsync(Message("alice@example.test", "bob@example.test", "submitted", "hello bob"));
        var notOwned = await Assert.ThrowsAsync<SmtpCommandException>(() => client.SendAsync(Message("bob@example.test", "bob@example.test", "forged", "x")));
        Assert.Equal(SmtpErrorCode.SenderNotAccepted, notOwned.ErrorCode);
        await client.DisconnectAsync(true);

        var stored = Encoding.UTF8.GetString(Assert.Single(await server.ReadMailboxAsync("bob@example.test")));
        Assert.Contains("with ESMTPSA (TLSv1.", stored, StringComparison.Ordinal);
        Assert.Contains("Subject: submitted", stored, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MailKit_implicit_tls_465_with_plain_and_relay_after_auth()
    {
        await using var server = await StartAsync();
        using var client = Client(server);
        await client.ConnectAsync("127.0.0.1", server.Port(MailProtocol.Submissions), SecureSocketOptions.SslOnConnect);
        Assert.True(client.IsSecure);
        client.AuthenticationMechanisms.Remove("SCRAM-SHA-256");
        await client.AuthenticateAsync("bob@example.test", BobPassword);
        await client.SendAsync(Message("bob@example.test", "alice@example.test", "over 465", "implicit TLS"));
        await client.SendAsync(Message("bob@example.test", "friend@remote.example", "relayed", "to the queue"));
        await client.DisconnectAsync(true);

        Assert.Contains("Subject: over 465", Encoding.UTF8.GetString(Assert.Single(await server.ReadMailboxAsync("alice@example.test"))), StringComparison.Ordinal);
        var queued = await server.Store.Queue.ListAsync(CancellationToken.None);
        Assert.Contains(queued, e => e.Sender == "bob@example.test" && e.Recipients.Any(r => r.Address == "friend@remote.example"));
    }

    [Fact]
    public async Task Submission_refuses_mail_before_auth()
    {
        await using var server = await StartAsync();
        using var client = Client(server);
        await client.ConnectAsync("127.0.0.1", server.Port(MailProtocol.Submission), SecureSocketOptions.StartTls);
        var ex = await Assert.ThrowsAsync<MailKit.ServiceNotAuthenticatedException>(() => client.SendAsync(Message("alice@example.test", "bob@example.test", "x", "x")));
        Assert.NotNull(ex);
        Assert.Empty(await server.ReadMailboxAsync("bob@example.test"));
    }

    [Fact]
    public async Task Python_smtplib_submission_and_mx()
    {
        await using var server = await StartAsync();
        var script = """
            import smtplib, ssl, sys
            port_sub, port_mx, cafile = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
            ctx = ssl.create_default_context(cafile=cafile)
            with smtplib.SMTP("127.0.0.1", port_sub, timeout=30) as s:
                s.ehlo("python.example")
                s.starttls(context=ctx)
                s.ehlo("python.example")
                s.login("alice@example.test", "alice-secret-1")
                refused = s.sendmail("alice@example.test", ["bob@example.test"], b"Subject: from smtplib\r\n\r\nhello\r\n.dot\r\n")
                assert refused == {}, refused
            with smtplib.SMTP("127.0.0.1", port_mx, timeout=30) as s:
                s.ehlo("python.example")
                assert s.has_extn("pipelining") and s.has_extn("chunking") and s.has_extn("smtputf8")
                code, _ = s.mail("", ["SMTPUTF8"])
                assert code == 250, code
                code, _ = s.rcpt("bob@example.test")
                assert code == 250, code
                code, _ = s.rcpt("ghost@example.test")
                assert code == 550, code
                code, _ = s.data("Subject: bounce-like\r\n\r\nnull sender\r\n".encode())
                assert code == 250, code
            print("ok")
            """;
        var path = Path.Combine(server.DataDirectory, "smtp_client.py");
        await File.WriteAllTextAsync(path, script);
        var (exit, output) = await InteropServerFixture.RunAsync("python3", [path, server.Port(MailProtocol.Submission).ToString(System.Globalization.CultureInfo.InvariantCulture), server.Port(MailProtocol.Smtp).ToString(System.Globalization.CultureInfo.InvariantCulture), Path.Combine(server.DataDirectory, "tls", "cert.pem")], Path.GetTempPath());
        Assert.True(exit == 0, output);
        var inbox = (await server.ReadMailboxAsync("bob@example.test")).Select(Encoding.UTF8.GetString).ToList();
        Assert.Equal(2, inbox.Count);
        Assert.EndsWith("Subject: from smtplib\r\n\r\nhello\r\n.dot\r\n", inbox[0], StringComparison.Ordinal);
        Assert.StartsWith("Return-Path: <>\r\n", inbox[1], StringComparison.Ordinal);
    }

    [RequiresToolFact("swaks")]
    public async Task Swaks_pipelining_and_authenticated_submission()
    {
        await using var server = await StartAsync();
        var mx = server.Port(MailProtocol.Smtp).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var (exit, output) = await InteropServerFixture.RunAsync("swaks", ["--server", "127.0.0.1", "--port", mx, "--from", "someone@remote.example", "--to", "alice@example.test", "--pipeline", "--header", "Subject: swaks mx", "--body", "pipelined"], Path.GetTempPath());
        Assert.True(exit == 0, output);

        var sub = server.Port(MailProtocol.Submission).ToString(System.Globalization.CultureInfo.InvariantCulture);
        // Loopback counts as secure (Server:LoopbackIsSecure), so AUTH works without TLS here;
        // swaks' TLS needs Net::SSLeay, which CI's --no-install-recommends does not pull in.
        (exit, output) = await InteropServerFixture.RunAsync("swaks", ["--server", "127.0.0.1", "--port", sub, "--auth", "PLAIN", "--auth-user", "bob@example.test", "--auth-password", BobPassword, "--from", "bob@example.test", "--to", "alice@example.test", "--header", "Subject: swaks sub", "--body", "authenticated"], Path.GetTempPath());
        Assert.True(exit == 0, output);

        var inbox = (await server.ReadMailboxAsync("alice@example.test")).Select(Encoding.UTF8.GetString).ToList();
        Assert.Equal(2, inbox.Count);
        Assert.Contains("Subject: swaks mx", inbox[0], StringComparison.Ordinal);
        Assert.Contains("with ESMTPA", inbox[1], StringComparison.Ordinal);
    }
}