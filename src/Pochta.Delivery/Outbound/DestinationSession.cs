using System.Net;
using System.Net.Sockets;

using MailKit.Net.Smtp;
using MailKit.Security;

using Microsoft.Extensions.Logging;

using MimeKit;

using IMailStore = Pochta.Storage.IMailStore;
using QueueRecipientInfo = Pochta.Storage.QueueRecipientInfo;

namespace Pochta.Delivery.Outbound;

/// <summary>
/// One destination's connection during a delivery run: connects to the route hosts in order
/// (each address of each host), keeps the connection for the following messages, and moves on
/// to the next host when a host fails or the session breaks.
/// </summary>
internal sealed class DestinationSession(
    IReadOnlyList<RouteHost> hosts,
    Destination destination,
    IOutboundDnsResolver dns,
    IMailStore store,
    DkimMessageSigner signer,
    OutboundOptions options,
    string heloName,
    TimeProvider timeProvider,
    ILogger logger,
    IdleConnection? cached = null) : IAsyncDisposable
{
    private int _hostIndex;
    private OutboundSmtpClient? _client = cached?.Client;
    private string? _clientHost = cached?.HostName;
    private int _messagesOnConnection = cached?.MessagesSent ?? 0;
    private string _lastError = "451 4.4.1 No answer from the destination hosts";
    private string? _lastHost;

    /// <summary>Sends one message to its recipients; every recipient gets a result.</summary>
    public async Task<IReadOnlyList<RecipientAttempt>> SendAsync(OutboundWorkItem item, CancellationToken cancellationToken)
    {
        var results = new List<RecipientAttempt>();
        var pending = item.Recipients.ToList();
        while (pending.Count > 0 && await EnsureConnectedAsync(cancellationToken).ConfigureAwait(false))
        {
            var reused = _messagesOnConnection > 0;
            pending = await TransactAsync(item, pending, results, cancellationToken).ConfigureAwait(false);
            _messagesOnConnection++;
            if (pending.Count > 0)
            {
                // The session broke: the rest go to the next host (RFC 5321 §5.1). A reused
                // connection that breaks was most likely closed by the server while idle (a
                // timeout, a 421 after its per-session limit): that host first gets one fresh
                // connection, which counts as new, so a host that keeps failing is left.
                await DropAsync().ConfigureAwait(false);
                if (!reused)
                {
                    _hostIndex++;
                }
            }
        }

        results.AddRange(pending.Select(r => new RecipientAttempt(r, AttemptResult.Temporary, _lastError, _lastHost, false)));
        return results;
    }

    public async Task QuitAsync(CancellationToken cancellationToken)
    {
        if (_client is { IsConnected: true } client)
        {
            try
            {
                await client.DisconnectAsync(quit: true, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or SmtpProtocolException or SocketException or SmtpCommandException)
            {
                // QUIT is a courtesy; delivery outcomes are already recorded.
            }
        }
    }

    /// <summary>Hands the open connection over (for the connection cache) when it can carry
    /// more messages; null when there is none. The session no longer owns it.</summary>
    public IdleConnection? Detach()
    {
        if (_client is not { IsConnected: true } client || _clientHost is not { } host || _messagesOnConnection >= options.MaxMessagesPerConnection)
        {
            return null;
        }

        _client = null;
        _clientHost = null;
        return new IdleConnection(client, host, _messagesOnConnection);
    }

    public async ValueTask DisposeAsync() => await DropAsync().ConfigureAwait(false);

    private async Task DropAsync()
    {
        if (_client is { } client)
        {
            _client = null;
            _clientHost = null;
            try
            {
                if (client.IsConnected)
                {
                    await client.DisconnectAsync(quit: false, CancellationToken.None).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is IOException or SmtpProtocolException or SocketException)
            {
            }
            finally
            {
                client.Dispose();
            }
        }
    }

    private async Task<bool> EnsureConnectedAsync(CancellationToken cancellationToken)
    {
        if (_client is { IsConnected: true } && _messagesOnConnection < options.MaxMessagesPerConnection)
        {
            return true;
        }

        await QuitAsync(cancellationToken).ConfigureAwait(false);
        await DropAsync().ConfigureAwait(false);
        for (; _hostIndex < hosts.Count; _hostIndex++)
        {
            if (await ConnectHostAsync(hosts[_hostIndex], cancellationToken).ConfigureAwait(false))
            {
                _messagesOnConnection = 0;
                return true;
            }
        }

        return false;
    }

    private async Task<bool> ConnectHostAsync(RouteHost host, CancellationToken cancellationToken)
    {
        _lastHost = host.Name;
        IReadOnlyList<IPAddress> addresses;
        try
        {
            addresses = await dns.LookupAddressesAsync(host.Name, cancellationToken).ConfigureAwait(false);
        }
        catch (DnsLookupException)
        {
            _lastError = "451 4.4.3 Temporary DNS failure looking up host " + host.Name;
            return false;
        }

        if (addresses.Count == 0)
        {
            _lastError = "451 4.4.4 Host " + host.Name + " has no address";
            return false;
        }

        foreach (var address in addresses)
        {
            var secure = host.Tls switch
            {
                TlsPolicy.Opportunistic => SecureSocketOptions.StartTlsWhenAvailable,
                TlsPolicy.RequiredStartTls => SecureSocketOptions.StartTls,
                TlsPolicy.Implicit => SecureSocketOptions.SslOnConnect,
                _ => SecureSocketOptions.None,
            };

            if (await TryConnectAsync(host, address, secure, cancellationToken).ConfigureAwait(false))
            {
                return true;
            }
        }

        return false;
    }

    private async Task<bool> TryConnectAsync(RouteHost host, IPAddress address, SecureSocketOptions secure, CancellationToken cancellationToken)
    {
        var endPoint = MxOrdering.Describe(address, host.Port);
        var client = new OutboundSmtpClient(host.Tls, options.AcceptUnverifiedMxCertificates)
        {
            LocalDomain = heloName,
            Timeout = (int)Math.Min(int.MaxValue, options.CommandTimeout.TotalMilliseconds),
        };
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            using (var timeout = new CancellationTokenSource(options.ConnectTimeout, timeProvider))
            using (var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token))
            {
                await socket.ConnectAsync(new IPEndPoint(address, host.Port), linked.Token).ConfigureAwait(false);
            }

            // MailKit owns the socket from here; the host name is used for SNI and certificate checks.
            var owned = socket;
            socket = null;
            await client.ConnectAsync(owned, host.Name, host.Port, secure, cancellationToken).ConfigureAwait(false);

            if (destination.Kind == RouteKind.SmartHost && options.SmartHost is { UserName: { Length: > 0 } user } relay)
            {
                await client.AuthenticateAsync(user, relay.Password ?? "", cancellationToken).ConfigureAwait(false);
            }

            _client = client;
            _clientHost = host.Name;
            logger.LogDebug("Connected to {Host} ({EndPoint}) for {Destination}; TLS {Tls}", host.Name, endPoint, destination.Key, client.IsSecure);
            return true;
        }
        catch (SslHandshakeException) when (host.Tls == TlsPolicy.Opportunistic && secure != SecureSocketOptions.None && options.PlaintextAfterTlsFailure)
        {
            client.Dispose();
            logger.LogInformation("TLS handshake with {Host} ({EndPoint}) failed; retrying in plaintext as configured", host.Name, endPoint);
            return await TryConnectAsync(host, address, SecureSocketOptions.None, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && IsConnectionFailure(ex))
        {
            client.Dispose();
            _lastError = DescribeConnectFailure(ex, host.Name, endPoint);
            logger.LogInformation("Cannot deliver via {Host} ({EndPoint}): {Error}", host.Name, endPoint, _lastError);
            return false;
        }
        finally
        {
            socket?.Dispose();
        }
    }

    private static bool IsConnectionFailure(Exception ex) =>
        ex is SocketException or IOException or SmtpProtocolException or SmtpCommandException or SslHandshakeException
            or AuthenticationException or OperationCanceledException or NotSupportedException or TimeoutException;

    private static string DescribeConnectFailure(Exception ex, string host, string endPoint) => ex switch
    {
        SmtpCommandException command => SmtpReplyText.Format((int)command.StatusCode is >= 400 and < 600 ? (int)command.StatusCode : 451, command.Message),
        SslHandshakeException => "451 4.7.5 TLS handshake with " + host + " failed",
        AuthenticationException => "451 4.7.0 Authentication with relay " + host + " failed",
        NotSupportedException => "451 4.7.4 " + host + " does not offer a required extension (STARTTLS or AUTH)",
        OperationCanceledException or TimeoutException => "451 4.4.1 Connection to " + host + " [" + endPoint + "] timed out",
        SocketException socket => "451 4.4.1 Connection to " + host + " [" + endPoint + "] failed: " + socket.SocketErrorCode,
        _ => "451 4.4.2 Connection to " + host + " [" + endPoint + "] lost",
    };

    /// <summary>One SMTP transaction. Adds final results to <paramref name="results"/>;
    /// returns the recipients to retry at another host (the session broke).</summary>
    private async Task<List<QueueRecipientInfo>> TransactAsync(
        OutboundWorkItem item, List<QueueRecipientInfo> pending, List<RecipientAttempt> results, CancellationToken cancellationToken)
    {
        var client = _client!;
        var host = _clientHost!;
        var offersDsn = client.Capabilities.HasFlag(SmtpCapabilities.Dsn);
        var entry = item.Entry;

        RecipientAttempt Result(QueueRecipientInfo r, string reply) => new(r, Classify(reply), reply, host, offersDsn);

        // RFC 6531 §3.2: an address with a non-ASCII local part needs SMTPUTF8; without it the
        // recipient (or, for the sender, the whole message) cannot be sent to this server.
        // (A non-ASCII domain alone is sent as its A-label.)
        if (!client.Capabilities.HasFlag(SmtpCapabilities.UTF8))
        {
            const string NoUtf8 = "553 5.6.7 The destination does not support internationalized addresses (SMTPUTF8)";
            if (NeedsSmtpUtf8(entry.Sender))
            {
                results.AddRange(pending.Select(r => Result(r, NoUtf8)));
                return [];
            }

            results.AddRange(pending.Where(r => NeedsSmtpUtf8(r.Address)).Select(r => Result(r, NoUtf8)));
            pending = pending.Where(r => !NeedsSmtpUtf8(r.Address)).ToList();
            if (pending.Count == 0)
            {
                return [];
            }
        }

        await using var raw = await store.Messages.OpenMessageAsync(entry.MessageId, cancellationToken).ConfigureAwait(false);

        // RFC 1870 §6: a message larger than the server's declared SIZE is not sent; the limit is
        // fixed for that server, so the failure is permanent.
        if (client.Capabilities.HasFlag(SmtpCapabilities.Size) && client.MaxSize > 0 && raw.Length > client.MaxSize)
        {
            var tooBig = "552 5.3.4 Message size exceeds the limit of " + host + " (" + client.MaxSize.ToString(System.Globalization.CultureInfo.InvariantCulture) + " octets)";
            results.AddRange(pending.Select(r => Result(r, tooBig)));
            return [];
        }

        var message = await MimeMessage.LoadAsync(raw, persistent: true, cancellationToken).ConfigureAwait(false);

        // RFC 5321 §4.4: Return-Path belongs to final delivery; a relay must not pass one on. One
        // blob serves local and remote recipients alike, so the local copy's field is in it
        // (Postfix drops it the same way: message_drop_headers).
        message.Headers.RemoveAll(HeaderId.ReturnPath);

        // RFC 6152 §3: 8-bit content goes to a server without 8BITMIME only after conversion
        // to 7 bit (base64 / quoted-printable, chosen by MimeKit per part). The conversion happens
        // before DKIM signing so the signature covers the bytes actually sent.
        if (!client.Capabilities.HasFlag(SmtpCapabilities.EightBitMime) && !client.Capabilities.HasFlag(SmtpCapabilities.BinaryMime))
        {
            message.Prepare(EncodingConstraint.SevenBit, 998);
        }

        // RFC 6532 header fields in raw UTF-8 are only for SMTPUTF8 servers; for the others they
        // are re-encoded as RFC 2047 encoded-words (the addresses themselves are ASCII here).
        var utf8Headers = HasEightBitHeaders(message);
        if (utf8Headers && !client.Capabilities.HasFlag(SmtpCapabilities.UTF8))
        {
            EncodeEightBitHeaders(message);
            utf8Headers = false;
        }

        signer.Sign(message);

        client.BeginTransaction(entry.EnvelopeId, entry.ReturnFullMessage, pending.Select(r => new RelayRecipient(r.Address, r.Notify, r.OriginalRecipient)).ToList());
        var sender = entry.Sender.Length == 0 ? new MailboxAddress("", "") : new MailboxAddress("", entry.Sender);
        var recipients = pending.Select(r => new MailboxAddress("", r.Address)).ToList();
        var format = FormatOptions.Default.Clone();
        format.NewLineFormat = NewLineFormat.Dos;

        // RFC 6531 §3.4: a message with UTF-8 header fields is sent with the SMTPUTF8 parameter
        // (MailKit adds it for International formatting when the server offers SMTPUTF8).
        format.International = utf8Headers;

        string? RcptReply(QueueRecipientInfo r) =>
            client.RecipientResponses.TryGetValue(r.Address, out var response)
                ? SmtpReplyText.Format((int)response.StatusCode, response.Response)
                : null;

        try
        {
            var dataReply = await client.SendAsync(format, message, sender, recipients, cancellationToken).ConfigureAwait(false);
            foreach (var r in pending)
            {
                var rcpt = RcptReply(r);
                results.Add(rcpt is not null && SmtpReplyText.GetCode(rcpt) >= 300
                    ? Result(r, rcpt)
                    : new RecipientAttempt(r, AttemptResult.Delivered, SmtpReplyText.Format(250, dataReply), host, offersDsn));
            }

            return [];
        }
        catch (SmtpCommandException ex) when (ex.StatusCode == SmtpStatusCode.ServiceNotAvailable)
        {
            // RFC 5321 §3.8: 421 means the server is closing the session, whatever the command:
            // the recipients are not refused, the session is over (retried below like a break).
            _lastError = SmtpReplyText.Format(421, ex.Message);
            return pending.Where(r => !IsFinalRefusal(RcptReply(r), results, r)).ToList();
        }
        catch (SmtpCommandException ex) when (ex.ErrorCode == SmtpErrorCode.SenderNotAccepted)
        {
            var reply = SmtpReplyText.Format((int)ex.StatusCode, ex.Message);
            results.AddRange(pending.Select(r => Result(r, reply)));
            return [];
        }
        catch (SmtpCommandException ex) when (ex.ErrorCode is SmtpErrorCode.MessageNotAccepted or SmtpErrorCode.RecipientNotAccepted)
        {
            // No recipient accepted (each has its own RCPT reply), or DATA refused (applies to the accepted ones).
            var dataReply = SmtpReplyText.Format((int)ex.StatusCode, ex.Message);
            foreach (var r in pending)
            {
                var rcpt = RcptReply(r);
                results.Add(Result(r, rcpt is not null && SmtpReplyText.GetCode(rcpt) >= 300 ? rcpt : dataReply));
            }

            return [];
        }
        catch (NotSupportedException)
        {
            // RFC 6531 §3.4: the message needs SMTPUTF8 and the server does not offer it.
            var reply = "553 5.6.7 The destination does not support internationalized addresses (SMTPUTF8)";
            results.AddRange(pending.Select(r => Result(r, reply)));
            return [];
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && IsConnectionFailure(ex))
        {
            // The session broke. A recipient already refused with 5xx stays refused; the others
            // are tried again elsewhere, even those whose DATA may have been received: if the
            // break came after the remote server took the final dot but before we read its 250,
            // the message is delivered twice (RFC 1047; the same window as a crash between
            // the remote 250 and our commit, see OutboundDelivery).
            _lastError = DescribeConnectFailure(ex, host, host);
            return pending.Where(r => !IsFinalRefusal(RcptReply(r), results, r)).ToList();
        }

        bool IsFinalRefusal(string? rcpt, List<RecipientAttempt> final, QueueRecipientInfo r)
        {
            if (rcpt is not null && SmtpReplyText.GetCode(rcpt) >= 500)
            {
                final.Add(Result(r, rcpt));
                return true;
            }

            return false;
        }
    }

    private static bool IsEightBit(Header h) => h.RawValue.AsSpan().ContainsAnyExceptInRange((byte)0, (byte)0x7f);

    private static IEnumerable<HeaderList> AllHeaders(MimeMessage message) =>
        new[] { message.Headers }.Concat(message.BodyParts.Concat<MimeEntity>(message.Body is Multipart m ? [m] : []).Select(p => p.Headers));

    internal static bool HasEightBitHeaders(MimeMessage message) => AllHeaders(message).Any(list => list.Any(IsEightBit));

    /// <summary>Re-encodes every header field whose raw value has 8-bit octets (RFC 2047).</summary>
    internal static void EncodeEightBitHeaders(MimeMessage message)
    {
        static void Encode(HeaderList headers)
        {
            var format = FormatOptions.Default.Clone();
            format.International = false;
            format.NewLineFormat = NewLineFormat.Dos;
            foreach (var header in headers.Where(IsEightBit).ToList())
            {
                header.SetValue(format, System.Text.Encoding.UTF8, header.Value);
            }
        }

        foreach (var headers in AllHeaders(message))
        {
            Encode(headers);
        }
    }

    /// <summary>True when the local part has non-ASCII characters (RFC 6531 §3.2).</summary>
    internal static bool NeedsSmtpUtf8(string address)
    {
        var at = address.LastIndexOf('@');
        var local = at < 0 ? address.AsSpan() : address.AsSpan(0, at);
        return !System.Text.Ascii.IsValid(local);
    }

    private static AttemptResult Classify(string reply) => SmtpReplyText.GetCode(reply) switch
    {
        >= 200 and < 300 => AttemptResult.Delivered,
        >= 500 and < 600 => AttemptResult.Permanent,
        _ => AttemptResult.Temporary,
    };
}