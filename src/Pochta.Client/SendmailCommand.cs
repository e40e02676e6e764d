using System.CommandLine;

using MimeKit;
using MimeKit.Utils;

using Pochta.Client.Cli;
using Pochta.Client.Config;
using Pochta.Client.Net;

namespace Pochta.Client;

/// <summary>
/// <c>sendmail [-t] [-f sender] [-i] [recipients...]</c>: the sendmail command-line convention
/// (cron, scripts, PHP mail()). Reads one message from stdin and submits it with the default
/// (or --account) account, or unauthenticated to --smtp host:port (a local relay).
/// </summary>
public static class SendmailCommand
{
    public static Command Create() => Create(ClientEnvironment.Default);

    internal static Command Create(ClientEnvironment environment)
    {
        var globals = new GlobalOptions();
        var recipients = new Argument<string[]>("recipients") { Description = "Envelope recipients", Arity = ArgumentArity.ZeroOrMore };
        var fromHeaders = new Option<bool>("-t") { Description = "Take recipients from To, Cc and Bcc (Bcc is removed)" };
        var sender = new Option<string?>("-f", "-r") { Description = "Envelope sender" };
        var ignoreDots = new Option<bool>("-i", "-oi") { Description = "Accepted for compatibility: a lone '.' never ends input here" };
        var smtp = new Option<string?>("--smtp") { Description = "Submit unauthenticated to this relay (host[:port]) instead of an account" };
        var smtpSecurity = new Option<string?>("--smtp-security") { Description = "tls, starttls or none for --smtp (default: none on loopback, else by port)" };
        smtpSecurity.AcceptOnlyFromAmong("tls", "starttls", "none");
        var command = new Command("sendmail", "Submit a message read from stdin (sendmail convention)")
        {
            recipients, fromHeaders, sender, ignoreDots, smtp, smtpSecurity,
        };
        globals.AddTo(command);
        return command.Bind(globals, environment, async context =>
        {
            MimeMessage message;
            await using (var stdin = environment.OpenStandardInput())
            {
                try
                {
                    message = await MimeMessage.LoadAsync(stdin, context.CancellationToken);
                }
                catch (FormatException)
                {
                    throw ClientException.Usage("stdin is not a message");
                }
            }

            using (message)
            {
                var relay = context.Get(smtp);
                var account = relay is null ? await context.GetAccountAsync() : null;

                var envelope = Args.ParseAddresses(context.Get(recipients)).OfType<MailboxAddress>().ToList();
                if (context.Get(fromHeaders))
                {
                    envelope.AddRange(message.To.Mailboxes.Concat(message.Cc.Mailboxes).Concat(message.Bcc.Mailboxes));
                }

                // RFC 5322 §3.6.3: Bcc recipients must not be revealed to the others.
                message.Headers.RemoveAll(HeaderId.Bcc);
                envelope = envelope.DistinctBy(m => m.Address, StringComparer.OrdinalIgnoreCase).ToList();
                if (envelope.Count == 0)
                {
                    throw ClientException.Usage("no recipients: give them as arguments or use -t");
                }

                var from = context.Get(sender) is { } f ? MailboxAddress.Parse(f)
                    : account is not null ? Submission.Self(account)
                    : message.From.Mailboxes.FirstOrDefault() ?? throw ClientException.Usage("no sender: give -f");

                // RFC 5322 §3.6: Date and From are required; Message-ID should be present.
                if (message.From.Count == 0)
                {
                    message.From.Add(from);
                }

                if (!message.Headers.Contains(HeaderId.Date))
                {
                    message.Date = environment.Time.GetLocalNow();
                }

                if (string.IsNullOrEmpty(message.MessageId))
                {
                    message.MessageId = MimeUtils.GenerateMessageId(Compose.MessageComposer.DomainOf(from.Address));
                }

                using var client = account is not null
                    ? await context.Connector.SmtpAsync(account, context.CancellationToken)
                    : await MailConnector.SmtpAnonymousAsync(RelayEndpoint(relay!, context.Get(smtpSecurity)), context.CancellationToken);
                await client.SendAsync(message, from, envelope, context.CancellationToken);
                await client.DisconnectAsync(quit: true, context.CancellationToken);
                if (context.Json)
                {
                    context.WriteJson(new { messageId = message.MessageId, recipients = envelope.Select(m => m.Address).ToArray() });
                }
            }

            return ExitCodes.Ok;
        });
    }

    private static ServerEndpoint RelayEndpoint(string relay, string? security)
    {
        var endpoint = EndpointParser.Parse(relay, MailProtocol.Smtp, security switch
        {
            "tls" => TransportSecurity.Tls,
            "starttls" => TransportSecurity.StartTls,
            "none" => TransportSecurity.None,
            _ => null,
        });

        // A relay on this machine: the traffic never leaves it, and local MTAs often have no certificate.
        var loopback = endpoint.Host == "localhost" || (System.Net.IPAddress.TryParse(endpoint.Host, out var address) && System.Net.IPAddress.IsLoopback(address));
        return security is null && loopback ? endpoint with { Security = TransportSecurity.None } : endpoint;
    }
}