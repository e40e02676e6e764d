using System.Net;
using System.Net.Sockets;

using MailKit;
using MailKit.Net.Imap;
using MailKit.Net.Pop3;
using MailKit.Net.Smtp;
using MailKit.Security;

using Pochta.Client.Cli;
using Pochta.Client.Config;

namespace Pochta.Client.Net;

/// <summary>Connects and logs in MailKit clients for an account, turning transport failures
/// into one-line errors naming the server (exit code 2).</summary>
internal sealed class MailConnector(PasswordResolver passwords)
{
    private const int TimeoutMilliseconds = 60_000;

    /// <summary>Strongest first: SCRAM never sends the password (RFC 7677); PLAIN/LOGIN only where the server offers them (after TLS).</summary>
    private static readonly string[] PreferredMechanisms = ["SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN", "LOGIN"];

    public async Task<ImapClient> ImapAsync(AccountConfig account, CancellationToken cancellationToken)
    {
        var endpoint = account.Imap ?? throw ClientException.Usage($"account {account.Name} has no IMAP server (account add --imap)");
        var client = new ImapClient();
        await ConnectAsync(client, endpoint, account, authenticate: true, cancellationToken);
        return client;
    }

    public async Task<SmtpClient> SmtpAsync(AccountConfig account, CancellationToken cancellationToken)
    {
        var endpoint = account.Smtp ?? throw ClientException.Usage($"account {account.Name} has no SMTP server (account add --smtp)");
        var client = new SmtpClient();
        await ConnectAsync(client, endpoint, account, authenticate: true, cancellationToken);
        return client;
    }

    /// <summary>An unauthenticated SMTP client (sendmail to a local relay).</summary>
    public static async Task<SmtpClient> SmtpAnonymousAsync(ServerEndpoint endpoint, CancellationToken cancellationToken)
    {
        var client = new SmtpClient();
        await ConnectCoreAsync(client, endpoint, null, cancellationToken);
        return client;
    }

    public async Task<Pop3Client> Pop3Async(AccountConfig account, CancellationToken cancellationToken)
    {
        var endpoint = account.Pop3 ?? throw ClientException.Usage($"account {account.Name} has no POP3 server (account add --pop3)");
        var client = new Pop3Client();
        await ConnectAsync(client, endpoint, account, authenticate: true, cancellationToken);
        return client;
    }

    private async Task ConnectAsync(MailService client, ServerEndpoint endpoint, AccountConfig account, bool authenticate, CancellationToken cancellationToken)
    {
        try
        {
            await ConnectCoreAsync(client, endpoint, account.CaFile, cancellationToken);
            if (!authenticate)
            {
                return;
            }

            var password = await passwords.GetAsync(account, cancellationToken);
            client.AuthenticationMechanisms.Remove("XOAUTH2");
            client.AuthenticationMechanisms.Remove("OAUTHBEARER");
            var credential = new NetworkCredential(account.LoginName, password);
            try
            {
                // One attempt with the strongest mechanism offered: trying each in turn would
                // multiply failures and get the connection dropped by the server's auth limits.
                var mechanism = PreferredMechanisms.FirstOrDefault(client.AuthenticationMechanisms.Contains);
                if (mechanism is not null && SaslMechanism.Create(mechanism, credential) is { } sasl)
                {
                    await client.AuthenticateAsync(sasl, cancellationToken);
                }
                else
                {
                    await client.AuthenticateAsync(credential, cancellationToken); // IMAP LOGIN, POP3 USER/PASS
                }
            }
            catch (AuthenticationException e)
            {
                throw new ClientException(ExitCodes.Error, $"{endpoint}: authentication failed: {OneLine(e.Message)}");
            }
            catch (ProtocolException)
            {
                throw new ClientException(ExitCodes.Error, $"{endpoint}: authentication failed: the server closed the connection");
            }
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    private static async Task ConnectCoreAsync(MailService client, ServerEndpoint endpoint, string? caFile, CancellationToken cancellationToken)
    {
        client.Timeout = TimeoutMilliseconds;
        if (caFile is not null)
        {
            client.ServerCertificateValidationCallback = CertificateTrust.ForCaFile(caFile);
        }

        var options = endpoint.Security switch
        {
            TransportSecurity.Tls => SecureSocketOptions.SslOnConnect,
            TransportSecurity.StartTls => SecureSocketOptions.StartTls,
            _ => SecureSocketOptions.None,
        };

        try
        {
            await client.ConnectAsync(endpoint.Host, endpoint.Port, options, cancellationToken);
        }
        catch (SocketException e)
        {
            throw new ClientException(ExitCodes.Error, $"{endpoint}: cannot connect: {OneLine(e.Message)}");
        }
        catch (SslHandshakeException)
        {
            throw new ClientException(ExitCodes.Error, $"{endpoint}: TLS failed: the server certificate is not trusted or the handshake was refused (see --ca-file)");
        }
        catch (NotSupportedException)
        {
            throw new ClientException(ExitCodes.Error, $"{endpoint}: the server does not offer STARTTLS");
        }
        catch (Exception e) when (e is ProtocolException or IOException)
        {
            throw new ClientException(ExitCodes.Error, $"{endpoint}: {OneLine(e.Message)}");
        }
    }

    internal static string OneLine(string text)
    {
        var end = text.AsSpan().IndexOfAny('\r', '\n');
        return (end < 0 ? text : text[..end]).Trim();
    }
}