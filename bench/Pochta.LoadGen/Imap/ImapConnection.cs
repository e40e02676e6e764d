using System.Buffers.Text;
using System.Globalization;
using System.Text;

using Pochta.LoadGen.Wire;

namespace Pochta.LoadGen.Imap;

internal enum ImapStatus
{
    Ok,
    No,
    Bad,
}

/// <summary>Receives the first fragment of each untagged response (up to its first literal).</summary>
internal delegate void UntaggedHandler(ReadOnlySpan<byte> line);

/// <summary>
/// A minimal IMAP4rev1/rev2 client (RFC 9051 §2.2, §7): tagged commands, untagged responses with
/// literals skipped byte-exactly, APPEND with LITERAL+ (RFC 7888) when offered. It tracks the
/// selected mailbox's message count from EXISTS/EXPUNGE responses.
/// </summary>
internal sealed class ImapConnection : IAsyncDisposable
{
    private readonly LineClient client;
    private int tagCounter;

    private ImapConnection(LineClient client) => this.client = client;

    public int Exists { get; private set; }

    public HashSet<string> Capabilities { get; } = new(StringComparer.OrdinalIgnoreCase);

    public static async Task<ImapConnection> OpenAsync(Endpoint endpoint, CancellationToken ct)
    {
        var client = await LineClient.ConnectAsync(endpoint, ct);
        var connection = new ImapConnection(client);
        try
        {
            bool ok = await client.ReadLineAsync(static line => line.StartsWith("* OK"u8), ct);
            if (!ok)
            {
                throw new ProtocolException("IMAP greeting is not * OK");
            }

            return connection;
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    public async Task LoadCapabilitiesAsync(CancellationToken ct)
    {
        var caps = Capabilities;
        var status = await CommandAsync("CAPABILITY", line =>
        {
            if (line.StartsWith("* CAPABILITY "u8))
            {
                foreach (var word in Encoding.ASCII.GetString(line[13..]).Split(' '))
                {
                    caps.Add(word);
                }
            }
        }, ct);
        Require(status, "CAPABILITY");
    }

    public static string Quote(string s) => "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    public async Task LoginAsync(string user, string password, CancellationToken ct) =>
        Require(await CommandAsync($"LOGIN {Quote(user)} {Quote(password)}", null, ct), "LOGIN");

    public async Task SelectAsync(string mailbox, CancellationToken ct) =>
        Require(await CommandAsync("SELECT " + Quote(mailbox), null, ct), "SELECT");

    /// <summary>Sends one tagged command and reads every response up to its tagged completion.</summary>
    public async ValueTask<ImapStatus> CommandAsync(string command, UntaggedHandler? onUntagged, CancellationToken ct)
    {
        var (status, _) = await CommandWithTextAsync(command, onUntagged, wantText: false, ct);
        return status;
    }

    public async ValueTask<(ImapStatus Status, string? Text)> CommandWithTextAsync(string command, UntaggedHandler? onUntagged, bool wantText, CancellationToken ct)
    {
        string tag = NextTag();
        await client.WriteAsync(tag + " " + command + "\r\n", ct);
        return await ReadUntilTaggedAsync(tag, onUntagged, wantText, ct);
    }

    /// <summary>APPEND (RFC 9051 §6.3.12); returns the new message's UID from APPENDUID (RFC 4315) or 0.</summary>
    public async Task<long> AppendAsync(string mailbox, string flags, ReadOnlyMemory<byte> message, CancellationToken ct)
    {
        string tag = NextTag();
        bool literalPlus = CanSendNonSynchronizing(message.Length);
        string head = $"{tag} APPEND {Quote(mailbox)} ({flags}) {{{message.Length.ToString(CultureInfo.InvariantCulture)}{(literalPlus ? "+" : "")}}}\r\n";
        await client.WriteAsync(head, ct);
        if (!literalPlus)
        {
            var first = await client.ReadLineAsync(static line => line.StartsWith("+"u8), ct);
            if (!first)
            {
                throw new ProtocolException("APPEND literal refused");
            }
        }

        await client.WriteAsync(message, ct);
        await client.WriteAsync("\r\n"u8.ToArray(), ct);
        var (status, text) = await ReadUntilTaggedAsync(tag, null, wantText: true, ct);
        Require(status, "APPEND");
        return ParseAppendUid(text);
    }

    /// <summary>
    /// Pipelined APPENDs (RFC 9051 §5.5 allows pipelining; LITERAL+ removes the continuation round
    /// trip): up to <paramref name="window"/> commands in flight, completions read in order.
    /// Falls back to one at a time without LITERAL+.
    /// </summary>
    public async Task AppendManyAsync(string mailbox, IEnumerable<(string Flags, byte[] Message)> messages, int window, CancellationToken ct)
    {
        var pending = new Queue<string>();
        foreach (var (flags, message) in messages)
        {
            if (!CanSendNonSynchronizing(message.Length))
            {
                // A synchronizing literal needs the server's "+": drain the pipeline first.
                while (pending.Count > 0)
                {
                    Require((await ReadUntilTaggedAsync(pending.Dequeue(), null, false, ct)).Item1, "APPEND");
                }

                await AppendAsync(mailbox, flags, message, ct);
                continue;
            }

            string tag = NextTag();
            var head = Encoding.ASCII.GetBytes($"{tag} APPEND {Quote(mailbox)} ({flags}) {{{message.Length.ToString(CultureInfo.InvariantCulture)}+}}\r\n");
            var buffer = new byte[head.Length + message.Length + 2];
            head.CopyTo(buffer, 0);
            message.CopyTo(buffer, head.Length);
            "\r\n"u8.CopyTo(buffer.AsSpan(head.Length + message.Length));
            await client.WriteAsync(buffer, ct);
            pending.Enqueue(tag);
            if (pending.Count >= window)
            {
                Require((await ReadUntilTaggedAsync(pending.Dequeue(), null, false, ct)).Item1, "APPEND");
            }
        }

        while (pending.Count > 0)
        {
            Require((await ReadUntilTaggedAsync(pending.Dequeue(), null, false, ct)).Item1, "APPEND");
        }
    }

    /// <summary>RFC 7888: LITERAL+ allows any non-synchronizing literal; LITERAL- (and IMAP4rev2) up to 4096 octets.</summary>
    private bool CanSendNonSynchronizing(long size) =>
        Capabilities.Contains("LITERAL+")
        || (size <= 4096 && (Capabilities.Contains("LITERAL-") || Capabilities.Contains("IMAP4rev2")));

    /// <summary>IDLE (RFC 2177): returns once the server sent its "+" continuation.</summary>
    public async Task<string> StartIdleAsync(CancellationToken ct)
    {
        string tag = NextTag();
        await client.WriteAsync(tag + " IDLE\r\n", ct);
        while (true)
        {
            var kind = await client.ReadLineAsync(static line => line.StartsWith("+"u8) ? 1 : line.StartsWith("* "u8) ? 0 : 2, ct);
            if (kind == 1)
            {
                return tag;
            }

            if (kind == 2)
            {
                throw new ProtocolException("IDLE refused");
            }
        }
    }

    public async Task StopIdleAsync(string tag, CancellationToken ct)
    {
        await client.WriteAsync("DONE\r\n"u8.ToArray(), ct);
        var (status, _) = await ReadUntilTaggedAsync(tag, null, false, ct);
        Require(status, "IDLE");
    }

    public async Task LogoutAsync(CancellationToken ct) => await CommandAsync("LOGOUT", null, ct);

    private string NextTag() => "a" + (++tagCounter).ToString(CultureInfo.InvariantCulture);

    private async ValueTask<(ImapStatus, string?)> ReadUntilTaggedAsync(string tag, UntaggedHandler? onUntagged, bool wantText, CancellationToken ct)
    {
        byte[] tagBytes = Encoding.ASCII.GetBytes(tag + " ");
        while (true)
        {
            var line = await client.ReadLineAsync(span => Classify(span, tagBytes, onUntagged, wantText), ct);
            long literal = line.Literal;
            while (literal >= 0)
            {
                await client.SkipAsync(literal, ct);
                literal = await client.ReadLineAsync(static span => LiteralAtEnd(span), ct);
            }

            if (line.Tagged)
            {
                return (line.Status, line.Text);
            }
        }
    }

    private readonly record struct Line(bool Tagged, ImapStatus Status, long Literal, string? Text);

    private Line Classify(ReadOnlySpan<byte> span, byte[] tagBytes, UntaggedHandler? onUntagged, bool wantText)
    {
        if (span.StartsWith(tagBytes))
        {
            var rest = span[tagBytes.Length..];
            var status = rest.StartsWith("OK"u8) ? ImapStatus.Ok : rest.StartsWith("NO"u8) ? ImapStatus.No : ImapStatus.Bad;
            return new Line(true, status, -1, wantText ? Encoding.ASCII.GetString(rest) : null);
        }

        if (span.StartsWith("* "u8))
        {
            TrackCounts(span[2..]);
            onUntagged?.Invoke(span);
        }

        return new Line(false, ImapStatus.Ok, LiteralAtEnd(span), null);
    }

    private void TrackCounts(ReadOnlySpan<byte> rest)
    {
        if (!Utf8Parser.TryParse(rest, out int n, out int used) || used >= rest.Length || rest[used] != (byte)' ')
        {
            return;
        }

        var word = rest[(used + 1)..];
        if (word.SequenceEqual("EXISTS"u8))
        {
            Exists = n;
        }
        else if (word.SequenceEqual("EXPUNGE"u8))
        {
            Exists--;
        }
    }

    /// <summary>Size of the literal announced at the end of a response line ("{123}"), or -1.</summary>
    private static long LiteralAtEnd(ReadOnlySpan<byte> span)
    {
        if (span.Length < 3 || span[^1] != (byte)'}')
        {
            return -1;
        }

        int open = span.LastIndexOf((byte)'{');
        if (open < 0 || !Utf8Parser.TryParse(span[(open + 1)..^1], out long size, out int used) || used != span.Length - open - 2)
        {
            return -1;
        }

        return size;
    }

    private static long ParseAppendUid(string? text)
    {
        // "OK [APPENDUID <uidvalidity> <uid>] ..."
        if (text is null)
        {
            return 0;
        }

        int at = text.IndexOf("[APPENDUID ", StringComparison.OrdinalIgnoreCase);
        if (at < 0)
        {
            return 0;
        }

        var parts = text[(at + 11)..].Split(' ', ']');
        return parts.Length > 1 && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out long uid) ? uid : 0;
    }

    private static void Require(ImapStatus status, string what)
    {
        if (status != ImapStatus.Ok)
        {
            throw new ProtocolException($"{what} failed: {status}");
        }
    }

    public ValueTask DisposeAsync() => client.DisposeAsync();
}