using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

using Pochta.Core;
using Pochta.Hosting;
using Pochta.Mime;
using Pochta.Sasl;
using Pochta.Storage;
using Pochta.Storage.Sqlite;

namespace Pochta.Pop3.Tests.Session;

/// <summary>Runs POP3 sessions over in-memory pipes against a store and an authenticator, with a
/// fake clock, against the real SqliteMailStore and Authenticator. Accounts: alice@example.test / secret, bob@example.test / hunter2.</summary>
internal sealed class Pop3Harness : IAsyncDisposable
{
    public const string Alice = "alice@example.test";
    public const string AlicePassword = "secret";
    public const string Bob = "bob@example.test";
    public const string BobPassword = "hunter2";

    public static readonly IPEndPoint Loopback = new(IPAddress.Loopback, 40000);
    public static readonly IPEndPoint Remote = new(IPAddress.Parse("192.0.2.10"), 40000);

    private static readonly Lazy<X509Certificate2> Certificate = new(CreateCertificate);
    private readonly List<TestClient> _clients = [];
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "pochta-pop3-" + Guid.NewGuid().ToString("N"));

    private Pop3Harness(Action<Pop3Options>? configure)
    {
        Options = new Pop3Options { AuthFailureDelay = TimeSpan.Zero };
        configure?.Invoke(Options);
        Registry = new Pop3MaildropRegistry(Time);

        // The store's group-commit writer runs on the real clock; the session's timers use Time.
        Store = new SqliteMailStore(new SqliteStoreOptions { DataDirectory = _directory }, TimeProvider.System);
        Authenticator = new Authenticator(Store);
    }

    /// <summary>A fresh SqliteMailStore in a temp directory with the two accounts and the real Authenticator.</summary>
    public static async Task<Pop3Harness> CreateAsync(Action<Pop3Options>? configure = null)
    {
        var h = new Pop3Harness(configure);
        await h.Store.InitializeAsync(CancellationToken.None);
        await h.Store.Directory.AddDomainAsync("example.test", CancellationToken.None);
        h.AliceInbox = await h.AddAccountAsync(Alice, AlicePassword);
        h.BobInbox = await h.AddAccountAsync(Bob, BobPassword);
        return h;
    }

    public static string CertificateHash => Certificate.Value.GetCertHashString();

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));

    public Pop3Options Options { get; }

    public SqliteMailStore Store { get; }

    public IAuthenticator Authenticator { get; }

    public Pop3MaildropRegistry Registry { get; }

    public MailboxInfo AliceInbox { get; private set; } = null!;

    public MailboxInfo BobInbox { get; private set; } = null!;

    /// <summary>Low PBKDF2 work for test accounts (the default count would dominate test time).</summary>
    private async Task<MailboxInfo> AddAccountAsync(string address, string password)
    {
        var account = await Store.Directory.AddAccountAsync(address, PasswordCredential.Create(password, 4096), 0, CancellationToken.None);
        return (await Store.Mailboxes.FindMailboxAsync(account.Id, "INBOX", CancellationToken.None))!;
    }

    /// <summary>Starts a session. Loopback counts as secure unless <paramref name="loopbackIsSecure"/> is false.</summary>
    public TestClient Connect(IPEndPoint? remote = null, bool tls = false, bool loopbackIsSecure = true, bool overLimit = false, CancellationToken stopping = default)
    {
        var toServer = new Pipe();
        var toClient = new Pipe();
        var transport = new DuplexPipe(toServer.Reader, toClient.Writer);
        var listener = new ListenerInfo("pop3", MailProtocol.Pop3, false, new IPEndPoint(IPAddress.Loopback, 110));
        var connection = new MailConnection(
            transport,
            listener,
            remote ?? Loopback,
            tls ? ServerTlsOptions : null,
            loopbackIsSecure)
        {
            OverConnectionLimit = overLimit,
        };
        var handler = new Pop3ProtocolHandler(
            Store,
            Authenticator,
            Microsoft.Extensions.Options.Options.Create(Options),
            Microsoft.Extensions.Options.Options.Create(new ServerOptions()),
            Registry,
            Time,
            NullLogger<Pop3ProtocolHandler>.Instance);
        var session = Task.Run(
            async () =>
        {
            try
            {
                await handler.RunAsync(connection, stopping);
            }
            finally
            {
                await connection.CompleteAsync();
                await toClient.Writer.CompleteAsync();
                await toServer.Reader.CompleteAsync();
            }
        },
            CancellationToken.None);
        var client = new TestClient(toServer, toClient, session);
        _clients.Add(client);
        return client;
    }

    /// <summary>Delivers a message to a mailbox through IMailStore.Messages, indexed by Pochta.Mime.</summary>
    public async Task<uint> DeliverAsync(MailboxInfo mailbox, string message, MessageFlags flags = MessageFlags.None, DateTimeOffset? internalDate = null)
    {
        await using var writer = Store.Messages.CreateWriter();
        await writer.WriteAsync(System.Text.Encoding.UTF8.GetBytes(message), CancellationToken.None);
        await using var staged = await writer.CompleteAsync(CancellationToken.None);
        byte[] index;
        await using (var read = staged.OpenRead())
        {
            index = await new MessageIndexer().BuildIndexAsync(read, CancellationToken.None);
        }

        var result = await Store.Messages.CommitAsync(
            new DeliveryRequest(staged, index, "sender@example.net", [new LocalDelivery(mailbox.Id, flags, [], internalDate ?? Time.GetUtcNow())], [], null),
            CancellationToken.None);
        return result.Uids[0];
    }

    public Task<IReadOnlyList<MessageEntry>> ListAsync(MailboxInfo mailbox) => Store.Mailboxes.ListMessagesAsync(mailbox.Id, CancellationToken.None);

    public static string Message(string subject, string body) =>
        $"From: sender@example.net\r\nTo: {Alice}\r\nSubject: {subject}\r\nMessage-ID: <{Guid.NewGuid():N}@example.net>\r\n\r\n{body}";

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients)
        {
            await client.DisposeAsync();
        }

        await Store.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static SslServerAuthenticationOptions ServerTlsOptions() => new() { ServerCertificate = Certificate.Value };

    private static X509Certificate2 CreateCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        return X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pfx), null);
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}