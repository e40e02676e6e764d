using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Pochta.Client.Tests;

/// <summary>A loopback listener serving one client connection at a time with a line protocol.
/// Minimal on purpose: it stands in for the real servers only until the in-process fixture exists.</summary>
internal abstract class ScriptedServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    protected ScriptedServer()
    {
        _listener.Start();
        _loop = Task.Run(AcceptLoopAsync);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public string Endpoint => $"127.0.0.1:{Port}";

    public List<string> Transcript { get; } = [];

    protected abstract Task ServeAsync(LineConnection connection, CancellationToken cancellationToken);

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            using (client)
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                timeout.CancelAfter(TimeSpan.FromSeconds(30));
                try
                {
                    await ServeAsync(new LineConnection(client.GetStream(), Transcript), timeout.Token);
                }
                catch (Exception e) when (e is IOException or OperationCanceledException)
                {
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _loop;
        _stop.Dispose();
    }
}

internal sealed class LineConnection(NetworkStream stream, List<string> transcript)
{
    private readonly byte[] _buffer = new byte[8192];
    private int _start;
    private int _end;

    public async Task<string?> ReadLineAsync(CancellationToken cancellationToken)
    {
        var bytes = await ReadLineBytesAsync(cancellationToken);
        if (bytes is null)
        {
            return null;
        }

        var line = Encoding.UTF8.GetString(bytes);
        lock (transcript)
        {
            transcript.Add("C: " + line);
        }

        return line;
    }

    /// <summary>One line without its CRLF; null at end of stream.</summary>
    public async Task<byte[]?> ReadLineBytesAsync(CancellationToken cancellationToken)
    {
        var line = new List<byte>();
        while (true)
        {
            if (_start == _end)
            {
                _start = 0;
                _end = await stream.ReadAsync(_buffer, cancellationToken);
                if (_end == 0)
                {
                    return null;
                }
            }

            var b = _buffer[_start++];
            if (b == '\n')
            {
                if (line.Count > 0 && line[^1] == '\r')
                {
                    line.RemoveAt(line.Count - 1);
                }

                return [.. line];
            }

            line.Add(b);
        }
    }

    public async Task WriteAsync(string text, CancellationToken cancellationToken)
    {
        lock (transcript)
        {
            transcript.Add("S: " + text.TrimEnd());
        }

        await stream.WriteAsync(Encoding.UTF8.GetBytes(text), cancellationToken);
    }
}

internal sealed record SmtpTransaction(string MailFrom, IReadOnlyList<string> Recipients, byte[] Data);

/// <summary>RFC 5321 subset: EHLO, AUTH PLAIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT.</summary>
internal sealed class FakeSmtpServer : ScriptedServer
{
    public List<SmtpTransaction> Transactions { get; } = [];

    public HashSet<string> RefusedRecipients { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Expected "\0user\0password" for AUTH PLAIN; null offers no AUTH.</summary>
    public string? Credentials { get; init; }

    protected override async Task ServeAsync(LineConnection connection, CancellationToken cancellationToken)
    {
        await connection.WriteAsync("220 fake ESMTP\r\n", cancellationToken);
        string? from = null;
        var recipients = new List<string>();
        while (await connection.ReadLineAsync(cancellationToken) is { } line)
        {
            var verb = (line.Length >= 4 ? line[..4] : line).ToUpperInvariant();
            switch (verb)
            {
                case "EHLO":
                    await connection.WriteAsync(Credentials is null
                        ? "250-fake\r\n250-8BITMIME\r\n250 SIZE 10000000\r\n"
                        : "250-fake\r\n250-8BITMIME\r\n250 AUTH PLAIN\r\n", cancellationToken);
                    break;
                case "AUTH":
                    var response = line.Split(' ')[^1];
                    var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(response));
                    await connection.WriteAsync(decoded == Credentials ? "235 2.7.0 ok\r\n" : "535 5.7.8 bad credentials\r\n", cancellationToken);
                    break;
                case "MAIL":
                    from = Path(line);
                    recipients.Clear();
                    await connection.WriteAsync("250 2.1.0 ok\r\n", cancellationToken);
                    break;
                case "RCPT":
                    var rcpt = Path(line);
                    if (RefusedRecipients.Contains(rcpt))
                    {
                        await connection.WriteAsync("550 5.1.1 no such user\r\n", cancellationToken);
                    }
                    else
                    {
                        recipients.Add(rcpt);
                        await connection.WriteAsync("250 2.1.5 ok\r\n", cancellationToken);
                    }

                    break;
                case "DATA":
                    await connection.WriteAsync("354 go ahead\r\n", cancellationToken);
                    var data = new MemoryStream();
                    while (await connection.ReadLineBytesAsync(cancellationToken) is { } bytes)
                    {
                        if (bytes is [(byte)'.'])
                        {
                            break;
                        }

                        // RFC 5321 §4.5.2: remove one leading dot.
                        var content = bytes is [(byte)'.', ..] ? bytes[1..] : bytes;
                        data.Write(content);
                        data.Write("\r\n"u8);
                    }

                    lock (Transactions)
                    {
                        Transactions.Add(new SmtpTransaction(from ?? string.Empty, [.. recipients], data.ToArray()));
                    }

                    await connection.WriteAsync("250 2.0.0 queued\r\n", cancellationToken);
                    break;
                case "RSET":
                case "NOOP":
                    await connection.WriteAsync("250 ok\r\n", cancellationToken);
                    break;
                case "QUIT":
                    await connection.WriteAsync("221 bye\r\n", cancellationToken);
                    return;
                default:
                    await connection.WriteAsync("502 5.5.1 unknown\r\n", cancellationToken);
                    break;
            }
        }
    }

    private static string Path(string line)
    {
        var start = line.IndexOf('<', StringComparison.Ordinal);
        var end = line.IndexOf('>', StringComparison.Ordinal);
        return start < 0 || end < start ? string.Empty : line[(start + 1)..end];
    }
}

/// <summary>RFC 1939 subset with UIDL: USER/PASS, CAPA, STAT, LIST, UIDL, RETR, DELE, NOOP, RSET, QUIT.</summary>
internal sealed class FakePop3Server(string user, string password) : ScriptedServer
{
    private readonly object _gate = new();

    public List<(string Uid, byte[] Bytes)> Messages { get; } = [];

    public bool DropAfterFirstRetr { get; set; }

    protected override async Task ServeAsync(LineConnection connection, CancellationToken cancellationToken)
    {
        List<(string Uid, byte[] Bytes)> snapshot;
        lock (_gate)
        {
            snapshot = [.. Messages];
        }

        var deleted = new HashSet<int>();
        var authenticated = false;
        string? givenUser = null;
        var retrieved = 0;
        await connection.WriteAsync("+OK fake POP3\r\n", cancellationToken);
        while (await connection.ReadLineAsync(cancellationToken) is { } line)
        {
            var parts = line.Split(' ');
            var verb = parts[0].ToUpperInvariant();
            var argument = parts.Length > 1 ? parts[1] : null;
            switch (verb)
            {
                case "CAPA":
                    await connection.WriteAsync("+OK\r\nUSER\r\nUIDL\r\nTOP\r\n.\r\n", cancellationToken);
                    break;
                case "USER":
                    givenUser = argument;
                    await connection.WriteAsync("+OK\r\n", cancellationToken);
                    break;
                case "PASS":
                    authenticated = givenUser == user && line[5..] == password;
                    await connection.WriteAsync(authenticated ? "+OK\r\n" : "-ERR [AUTH] invalid credentials\r\n", cancellationToken);
                    break;
                case "STAT" when authenticated:
                    await connection.WriteAsync(string.Create(CultureInfo.InvariantCulture, $"+OK {snapshot.Count} {snapshot.Sum(m => m.Bytes.Length)}\r\n"), cancellationToken);
                    break;
                case "LIST" when authenticated:
                    var list = new StringBuilder("+OK\r\n");
                    for (var i = 0; i < snapshot.Count; i++)
                    {
                        list.Append(CultureInfo.InvariantCulture, $"{i + 1} {snapshot[i].Bytes.Length}\r\n");
                    }

                    await connection.WriteAsync(list.Append(".\r\n").ToString(), cancellationToken);
                    break;
                case "UIDL" when authenticated:
                    var uidl = new StringBuilder("+OK\r\n");
                    for (var i = 0; i < snapshot.Count; i++)
                    {
                        uidl.Append(CultureInfo.InvariantCulture, $"{i + 1} {snapshot[i].Uid}\r\n");
                    }

                    await connection.WriteAsync(uidl.Append(".\r\n").ToString(), cancellationToken);
                    break;
                case "RETR" when authenticated:
                    if (DropAfterFirstRetr && retrieved == 1)
                    {
                        return; // the connection drops mid-session
                    }

                    retrieved++;
                    var message = snapshot[int.Parse(argument!, CultureInfo.InvariantCulture) - 1].Bytes;
                    var text = new StringBuilder("+OK\r\n");
                    foreach (var messageLine in Encoding.ASCII.GetString(message).Split("\r\n")[..^1])
                    {
                        text.Append(messageLine.StartsWith('.') ? "." : string.Empty).Append(messageLine).Append("\r\n");
                    }

                    await connection.WriteAsync(text.Append(".\r\n").ToString(), cancellationToken);
                    break;
                case "DELE" when authenticated:
                    deleted.Add(int.Parse(argument!, CultureInfo.InvariantCulture) - 1);
                    await connection.WriteAsync("+OK\r\n", cancellationToken);
                    break;
                case "NOOP":
                case "RSET":
                    await connection.WriteAsync("+OK\r\n", cancellationToken);
                    break;
                case "QUIT":
                    // RFC 1939 §6: the UPDATE state removes the marked messages.
                    lock (_gate)
                    {
                        foreach (var index in deleted)
                        {
                            Messages.RemoveAll(m => m.Uid == snapshot[index].Uid);
                        }
                    }

                    await connection.WriteAsync("+OK bye\r\n", cancellationToken);
                    return;
                default:
                    await connection.WriteAsync("-ERR unknown\r\n", cancellationToken);
                    break;
            }
        }
    }
}