using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

using Microsoft.Extensions.DependencyInjection;

using Pochta.Core;
using Pochta.Sasl;
using Pochta.Storage;
using Pochta.Testing;

namespace Pochta.Interop.Tests;

/// <summary>One in-process Pochta server for the IMAP interop tests; each test uses its own account.</summary>
public sealed class ImapFixture : IAsyncLifetime
{
    private int _users;

    public PochtaTestServer Server { get; private set; } = null!;

    public int ImapPort => Server.Port(MailProtocol.Imap);

    public int ImapsPort => Server.Port(MailProtocol.Imaps);

    public string CertificateSha256 { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Server = await PochtaTestServer.StartAsync();
        using var certificate = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(Path.Combine(Server.DataDirectory, "tls", "cert.pem")));
        CertificateSha256 = Convert.ToHexStringLower(SHA256.HashData(certificate.RawData));
    }

    public async Task DisposeAsync() => await Server.DisposeAsync();

    public bool IsServerCertificate(X509Certificate? certificate) =>
        certificate is not null && Convert.ToHexStringLower(SHA256.HashData(certificate.GetRawCertData())) == CertificateSha256;

    /// <summary>A new account with the default mailboxes.</summary>
    public async Task<string> NewUserAsync(string password)
    {
        var address = $"imap{Interlocked.Increment(ref _users)}@example.test";
        var directory = Server.Store.Directory;
        if (await directory.FindDomainAsync("example.test", CancellationToken.None) is null)
        {
            try
            {
                await directory.AddDomainAsync("example.test", CancellationToken.None);
            }
            catch (StoreConflictException)
            {
                // Another test created it first.
            }
        }

        // Low PBKDF2 work keeps the many logins of these tests cheap on a shared CPU.
        await directory.AddAccountAsync(address, PasswordCredential.Create(password, 4096), 0, CancellationToken.None);
        return address;
    }

    /// <summary>Delivers messages into a mailbox through IMailStore.Messages (as local delivery does).</summary>
    public async Task DeliverAsync(string address, string mailbox, params string[] messages)
    {
        var store = Server.Store;
        var indexer = Server.Services.GetRequiredService<IMessageIndexer>();
        var account = (await store.Directory.FindAccountAsync(address, CancellationToken.None))!;
        var box = (await store.Mailboxes.FindMailboxAsync(account.Id, mailbox, CancellationToken.None))!;
        foreach (var message in messages)
        {
            await using var writer = store.Messages.CreateWriter();
            await writer.WriteAsync(Encoding.UTF8.GetBytes(message), CancellationToken.None);
            await using var staged = await writer.CompleteAsync(CancellationToken.None);
            byte[] index;
            await using (var read = staged.OpenRead())
            {
                index = await indexer.BuildIndexAsync(read, CancellationToken.None);
            }

            await store.Messages.CommitAsync(
                new DeliveryRequest(staged, index, "sender@example.net", [new LocalDelivery(box.Id, MessageFlags.None, [], DateTimeOffset.UtcNow)], [], null),
                CancellationToken.None);
        }
    }

    public static string Message(string subject, string body, string from = "sender@example.net", string? references = null) =>
        $"From: {from}\r\nTo: someone@example.test\r\nSubject: {subject}\r\nMessage-ID: <{Guid.NewGuid():N}@example.net>\r\n"
        + (references is null ? string.Empty : $"References: {references}\r\nIn-Reply-To: {references}\r\n")
        + $"Date: Tue, 01 Dec 2026 12:00:00 +0000\r\n\r\n{body}";
}