using Pochta.Core;
using Pochta.Hosting;

namespace Pochta.Server;

/// <summary>What <c>serve --dev</c> prints once it listens: the ports, the demo account and
/// how to try it with a client.</summary>
internal static class DevBanner
{
    public static async Task WriteAsync(TextWriter output, string dataDirectory, IReadOnlyList<ListenerInfo> listeners, DevAccount account)
    {
        await output.WriteLineAsync($"Pochta development server (loopback only); data in {dataDirectory}");
        foreach (var listener in listeners)
        {
            await output.WriteLineAsync($"  {Describe(listener.Protocol),-34} {StartupChecks.Format(listener.EndPoint)}");
        }

        await output.WriteLineAsync();
        var password = account.Password ?? "PASSWORD";
        if (account.Password is not null)
        {
            await output.WriteLineAsync($"Demo account {account.Address}, password {account.Password}");
            await output.WriteLineAsync("  (shown only this once; change it with: pochta user passwd " + account.Address + ")");
        }
        else
        {
            await output.WriteLineAsync($"Demo account {account.Address} (its password was printed at the first start; reset it with: pochta user passwd {account.Address})");
        }

        await output.WriteLineAsync();
        await output.WriteLineAsync("Try it:");
        var submission = Find(listeners, MailProtocol.Submission);
        var smtp = Find(listeners, MailProtocol.Smtp);
        if (submission is not null)
        {
            await output.WriteLineAsync($"  swaks --server {submission.EndPoint} --tls --auth-user {account.Address} --auth-password '{password}' --from {account.Address} --to {account.Address}");
        }
        else if (smtp is not null)
        {
            await output.WriteLineAsync($"  swaks --server {smtp.EndPoint} --from someone@example.org --to {account.Address}");
        }

        if (Find(listeners, MailProtocol.Imaps) is { } imaps)
        {
            await output.WriteLineAsync($"  openssl s_client -connect {imaps.EndPoint} -quiet      then: a LOGIN {account.Address} {password}");
        }

        if (Find(listeners, MailProtocol.Pop3s) is { } pop3s)
        {
            await output.WriteLineAsync($"  openssl s_client -connect {pop3s.EndPoint} -quiet      then: USER {account.Address} / PASS {password}");
        }

        if (Find(listeners, MailProtocol.Http) is { } http)
        {
            await output.WriteLineAsync($"  curl http://{http.EndPoint}/mail/config-v1.1.xml      (client autoconfiguration)");
        }

        await output.WriteLineAsync($"The TLS certificate is self-signed: {Path.Combine(dataDirectory, "tls", "cert.pem")}. Press Ctrl+C to stop.");
    }

    private static ListenerInfo? Find(IReadOnlyList<ListenerInfo> listeners, MailProtocol protocol) =>
        listeners.FirstOrDefault(l => l.Protocol == protocol);

    private static string Describe(MailProtocol protocol) => protocol switch
    {
        MailProtocol.Smtp => "SMTP (MX)",
        MailProtocol.Submission => "SMTP submission (STARTTLS)",
        MailProtocol.Submissions => "SMTP submission (implicit TLS)",
        MailProtocol.Imap => "IMAP (STARTTLS)",
        MailProtocol.Imaps => "IMAP (implicit TLS)",
        MailProtocol.Pop3 => "POP3 (STLS)",
        MailProtocol.Pop3s => "POP3 (implicit TLS)",
        MailProtocol.Http => "HTTP (autoconfig, /healthz)",
        _ => protocol.ToString(),
    };
}