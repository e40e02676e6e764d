using System.Net.Security;
using System.Text;

using MailKit.Security;

namespace Pochta.Delivery.Outbound;

/// <summary>
/// Takes a connection from TCP to the point where MailKit speaks SMTP over it: TLS from the
/// first byte (RFC 8314), or the greeting, EHLO and STARTTLS (RFC 3207) when TLS is wanted and
/// offered, then the TLS handshake with the client's certificate policy. MailKit gets a
/// <see cref="SmtpCommandRewriteStream"/> above the TLS layer (so that RCPT parameters it
/// cannot be told about go out as received, RFC 3461 §4.2) that replays the greeting; MailKit
/// then sends EHLO itself (after STARTTLS the session starts over, RFC 3207 §4.2; without
/// TLS a second EHLO is allowed, RFC 5321 §4.1.4). Failures surface as MailKit's own
/// exceptions (<see cref="SslHandshakeException"/>, <see cref="NotSupportedException"/> when
/// STARTTLS is required and not offered), so the session's error handling is the same.
/// </summary>
internal static class OutboundConnector
{
    public static async Task<(Stream Stream, bool Tls)> EstablishAsync(
        Stream transport, string hostName, string heloName, SecureSocketOptions secure, OutboundSmtpClient client, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        var ct = limit.Token;
        switch (secure)
        {
            case SecureSocketOptions.None:
                return (new SmtpCommandRewriteStream(transport, [], client.RewriteCommand), false);

            case SecureSocketOptions.SslOnConnect:
                return (new SmtpCommandRewriteStream(await HandshakeAsync(transport, hostName, client, ct).ConfigureAwait(false), [], client.RewriteCommand), true);
        }

        var reader = new ReplyReader(transport);
        var greeting = await reader.ReadAsync(ct).ConfigureAwait(false);
        if (greeting.Code != 220)
        {
            // MailKit reads the same greeting and reports it as it always does.
            return (new SmtpCommandRewriteStream(transport, greeting.Raw, client.RewriteCommand), false);
        }

        await WriteAsync(transport, "EHLO " + heloName, ct).ConfigureAwait(false);
        var ehlo = await reader.ReadAsync(ct).ConfigureAwait(false);
        var offered = ehlo.Code == 250 && ehlo.Lines.Skip(1).Any(l => l.Equals("STARTTLS", StringComparison.OrdinalIgnoreCase) || l.StartsWith("STARTTLS ", StringComparison.OrdinalIgnoreCase));
        if (offered)
        {
            await WriteAsync(transport, "STARTTLS", ct).ConfigureAwait(false);
            offered = (await reader.ReadAsync(ct).ConfigureAwait(false)).Code == 220;
            if (offered)
            {
                var tls = await HandshakeAsync(transport, hostName, client, ct).ConfigureAwait(false);
                return (new SmtpCommandRewriteStream(tls, greeting.Raw, client.RewriteCommand), true);
            }
        }

        if (secure == SecureSocketOptions.StartTls)
        {
            throw new NotSupportedException("The SMTP server does not support the STARTTLS extension.");
        }

        // RFC 7435: STARTTLS not offered (or refused) by an MX host: plaintext.
        return (new SmtpCommandRewriteStream(transport, greeting.Raw, client.RewriteCommand), false);
    }

    private static async Task<SslStream> HandshakeAsync(Stream transport, string hostName, OutboundSmtpClient client, CancellationToken ct)
    {
        var ssl = new SslStream(transport, leaveInnerStreamOpen: false); // disposing the session closes the socket
        try
        {
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = hostName,
                RemoteCertificateValidationCallback = client.ServerCertificateValidationCallback,
            }, ct).ConfigureAwait(false);
            return ssl;
        }
        catch (Exception ex) when (ex is System.Security.Authentication.AuthenticationException or IOException)
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw new SslHandshakeException("TLS handshake with " + hostName + " failed: " + ex.Message, ex);
        }
    }

    private static async Task WriteAsync(Stream stream, string command, CancellationToken ct)
    {
        await stream.WriteAsync(Encoding.ASCII.GetBytes(command + "\r\n"), ct).ConfigureAwait(false);
        await stream.FlushAsync(ct).ConfigureAwait(false);
    }

    /// <summary>One SMTP reply: its code, the text of each line, and the raw octets.</summary>
    private sealed record Reply(int Code, IReadOnlyList<string> Lines, byte[] Raw);

    /// <summary>Reads replies octet by octet: nothing beyond a reply is consumed, so the TLS
    /// handshake that follows 220 finds the stream where the server left it.</summary>
    private sealed class ReplyReader(Stream stream)
    {
        private const int MaxReply = 64 * 1024;
        private readonly byte[] _one = new byte[1];

        public async Task<Reply> ReadAsync(CancellationToken ct)
        {
            var raw = new MemoryStream();
            var lines = new List<string>();
            var line = new StringBuilder();
            while (raw.Length < MaxReply)
            {
                if (await stream.ReadAsync(_one, ct).ConfigureAwait(false) == 0)
                {
                    throw new IOException("The server closed the connection.");
                }

                raw.WriteByte(_one[0]);
                if (_one[0] != '\n')
                {
                    line.Append((char)_one[0]);
                    continue;
                }

                var text = line.ToString().TrimEnd('\r');
                line.Clear();
                if (text.Length < 3 || !int.TryParse(text.AsSpan(0, 3), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var code))
                {
                    throw new MailKit.Net.Smtp.SmtpProtocolException("Invalid SMTP reply.");
                }

                lines.Add(text.Length > 4 ? text[4..] : "");
                if (text.Length == 3 || text[3] == ' ')
                {
                    return new Reply(code, lines, raw.ToArray());
                }
            }

            throw new MailKit.Net.Smtp.SmtpProtocolException("SMTP reply too long.");
        }
    }
}