using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Text;

using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

using Pochta.Core;
using Pochta.Hosting;
using Pochta.Mime;
using Pochta.Sasl;
using Pochta.Storage;
using Pochta.Storage.Sqlite;

namespace Pochta.Imap.Tests.Support;

/// <summary>An IMAP server over in-memory pipes: one store, any number of client sessions.</summary>
internal sealed class ImapHarness : IAsyncDisposable
{
    public const string User = "alice@example.test";
    public const string Password = "s3cret";

    private readonly List<ImapTestClient> _clients = [];
    private readonly string _directory;

    private ImapHarness(SqliteMailStore store, string directory, long accountId, ImapOptions options)
    {
        Store = store;
        _directory = directory;
        AccountId = accountId;
        Options = options;
        Authenticator = new Authenticator(store);
        Handler = new ImapProtocolHandler(Store, Authenticator, new MessageIndexer(), Microsoft.Extensions.Options.Options.Create(new ServerOptions()), Microsoft.Extensions.Options.Options.Create(Options), Time, NullLogger<ImapProtocolHandler>.Instance);
    }

    /// <summary>A fresh SqliteMailStore in a temporary directory with one account (default mailboxes).</summary>
    public static async Task<ImapHarness> CreateAsync(ImapOptions? options = null)
    {
        var dir = Path.Combine(Path.GetTempPath(), "pochta-imap-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        var store = new SqliteMailStore(new SqliteStoreOptions { DataDirectory = dir }, TimeProvider.System);
        await store.InitializeAsync(default);
        await store.Directory.AddDomainAsync("example.test", default);

        // Few PBKDF2 iterations: the tests log in often; production uses the default.
        var account = await store.Directory.AddAccountAsync(User, PasswordCredential.Create(Password, 1000), 0, default);
        return new ImapHarness(store, dir, account.Id, options ?? new ImapOptions { FailedLoginDelay = TimeSpan.FromSeconds(2) });
    }

    public long AccountId { get; }

    public SqliteMailStore Store { get; }

    public IAuthenticator Authenticator { get; }

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));

    public ImapOptions Options { get; }

    public ImapProtocolHandler Handler { get; }

    /// <summary>Connects a client; 127.0.0.1 counts as secure (LoopbackIsSecure), 192.0.2.10 does not.</summary>
    public async Task<ImapTestClient> ConnectAsync(bool loopback = true, bool overLimit = false, bool readGreeting = true)
    {
        var toServer = new Pipe();
        var toClient = new Pipe();
        var listener = new ListenerInfo("imap", MailProtocol.Imap, false, new IPEndPoint(IPAddress.Loopback, 143));
        var remote = new IPEndPoint(loopback ? IPAddress.Loopback : IPAddress.Parse("192.0.2.10"), 50000);
        var connection = new MailConnection(new Duplex(toServer.Reader, toClient.Writer), listener, remote, null, loopbackIsSecure: true) { OverConnectionLimit = overLimit };
        var cts = new CancellationTokenSource();
        var run = Task.Run(async () =>
        {
            try
            {
                await Handler.RunAsync(connection, cts.Token);
            }
            finally
            {
                await toClient.Writer.CompleteAsync();
            }
        });
        var client = new ImapTestClient(toServer.Writer, toClient.Reader, run, cts);
        _clients.Add(client);
        if (readGreeting)
        {
            client.Greeting = await client.ReadLineAsync();
        }

        return client;
    }

    public async Task<ImapTestClient> LoginAsync(string? select = null)
    {
        var c = await ConnectAsync();
        await c.OkAsync("L1 LOGIN " + User + " " + Password);
        if (select is not null)
        {
            await c.OkAsync("S1 SELECT " + select);
        }

        return c;
    }

    /// <summary>Delivers a message into a mailbox the way SMTP does (writer, index, commit).</summary>
    public async Task<uint> DeliverAsync(string message, string mailbox = "INBOX", MessageFlags flags = MessageFlags.None, DateTimeOffset? date = null, params string[] keywords)
    {
        var box = await Store.Mailboxes.FindMailboxAsync(AccountId, mailbox, default) ?? throw new InvalidOperationException("no mailbox");
        var bytes = Encoding.UTF8.GetBytes(message.ReplaceLineEndings("\r\n"));
        await using var writer = Store.Messages.CreateWriter();
        await writer.WriteAsync(bytes, default);
        await using var staged = await writer.CompleteAsync(default);
        byte[] index;
        await using (var s = staged.OpenRead())
        {
            index = await new MessageIndexer().BuildIndexAsync(s, default);
        }

        var result = await Store.Messages.CommitAsync(new DeliveryRequest(staged, index, "sender@example.net", [new LocalDelivery(box.Id, flags, keywords, date ?? Time.GetUtcNow())], [], null), default);
        return result.Uids[0];
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var c in _clients)
        {
            await c.DisposeAsync();
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

    private sealed class Duplex(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}

/// <summary>The client side of a transcript: send lines, read responses (literals inlined).</summary>
internal sealed class ImapTestClient(PipeWriter output, PipeReader input, Task run, CancellationTokenSource cts) : IAsyncDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    public string? Greeting { get; set; }

    /// <summary>Ends the client's side (EOF), reads every line the server still writes, and waits
    /// for the session to end; a session that fails to end in time fails the test.</summary>
    public async Task<List<string>> FinishAsync()
    {
        await output.CompleteAsync();
        var lines = new List<string>();
        while (await ReadRawLineAsync() is { } line)
        {
            lines.Add(line);
        }

        await Run.WaitAsync(Timeout);
        return lines;
    }

    /// <summary>Cancels the session's token, as the host does when the server stops.</summary>
    public Task StopServerAsync() => cts.CancelAsync();

    public Task Run { get; } = run;

    public async Task SendAsync(string text)
    {
        await output.WriteAsync(Encoding.UTF8.GetBytes(text));
    }

    public Task SendLineAsync(string line) => SendAsync(line + "\r\n");

    /// <summary>Sends bytes as they are (8-bit and invalid UTF-8 included).</summary>
    public async Task SendBytesAsync(byte[] bytes) => await output.WriteAsync(bytes);

    /// <summary>One response line; a trailing literal's bytes are appended (so a FETCH reads as one string).</summary>
    public async Task<string> ReadLineAsync()
    {
        var sb = new StringBuilder();
        while (true)
        {
            var line = await ReadRawLineAsync() ?? throw new EndOfStreamException("server closed: " + sb);
            sb.Append(line);
            var m = System.Text.RegularExpressions.Regex.Match(line, @"~?\{(\d+)\}$");
            if (!m.Success)
            {
                return sb.ToString();
            }

            sb.Append("\r\n");
            sb.Append(await ReadBytesAsync(int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)));
        }
    }

    public async Task<string?> ReadRawLineAsync()
    {
        using var timeout = new CancellationTokenSource(Timeout);
        while (true)
        {
            var result = await input.ReadAsync(timeout.Token);
            var buffer = result.Buffer;
            var pos = buffer.PositionOf((byte)'\n');
            if (pos is { } p)
            {
                var line = Encoding.UTF8.GetString(buffer.Slice(0, p));
                input.AdvanceTo(buffer.GetPosition(1, p));
                return line.TrimEnd('\r');
            }

            input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                return null;
            }
        }
    }

    private async Task<string> ReadBytesAsync(int count)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        var bytes = new List<byte>();
        while (bytes.Count < count)
        {
            var result = await input.ReadAsync(timeout.Token);
            var buffer = result.Buffer;
            var take = buffer.Slice(0, Math.Min(count - bytes.Count, buffer.Length));
            bytes.AddRange(take.ToArray());
            input.AdvanceTo(take.End);
            if (result.IsCompleted && bytes.Count < count)
            {
                throw new EndOfStreamException();
            }
        }

        return Encoding.UTF8.GetString([.. bytes]);
    }

    /// <summary>Sends a command and returns every line up to and including its tagged completion.</summary>
    public async Task<List<string>> CommandAsync(string command)
    {
        var tag = command[..command.IndexOf(' ', StringComparison.Ordinal)];
        await SendLineAsync(command);
        return await ReadUntilTaggedAsync(tag);
    }

    public async Task<List<string>> ReadUntilTaggedAsync(string tag)
    {
        var lines = new List<string>();
        while (true)
        {
            var line = await ReadLineAsync();
            lines.Add(line);
            if (line.StartsWith(tag + " ", StringComparison.Ordinal))
            {
                return lines;
            }
        }
    }

    /// <summary>Runs a command and asserts a tagged OK; returns the untagged lines.</summary>
    public async Task<List<string>> OkAsync(string command)
    {
        var lines = await CommandAsync(command);
        var tag = command[..command.IndexOf(' ', StringComparison.Ordinal)];
        Assert.StartsWith(tag + " OK", lines[^1], StringComparison.Ordinal);
        return lines[..^1];
    }

    /// <summary>Runs a command, asserts a tagged OK and exactly one untagged line, returns it.</summary>
    public async Task<string> OneAsync(string command) => Assert.Single(await OkAsync(command));

    public async ValueTask DisposeAsync()
    {
        await output.CompleteAsync();
        try
        {
            await Run.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (TimeoutException)
        {
            await cts.CancelAsync();
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
        }

        cts.Dispose();
    }
}