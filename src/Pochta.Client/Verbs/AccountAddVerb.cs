using System.CommandLine;

using Pochta.Client.Cli;
using Pochta.Client.Config;
using Pochta.Client.Net;

namespace Pochta.Client.Verbs;

/// <summary><c>mail account add NAME --address A [--imap host:port] [--smtp host:port] [--pop3 host:port]</c>;
/// with no server given, the settings are discovered (Mozilla autoconfig, RFC 6186 SRV).</summary>
internal static class AccountAddVerb
{
    private static readonly string[] SecurityModes = ["tls", "starttls", "none"];

    public static Command Create(GlobalOptions globals, ClientEnvironment environment)
    {
        var name = new Argument<string>("name") { Description = "A short name for the account" };
        var address = new Option<string>("--address") { Description = "Your e-mail address", Required = true };
        var displayName = new Option<string?>("--display-name") { Description = "Name shown in From" };
        var login = new Option<string?>("--login") { Description = "Login name (default: the address)" };
        var imap = new Option<string?>("--imap") { Description = "IMAP server host[:port]" };
        var smtp = new Option<string?>("--smtp") { Description = "Submission server host[:port]" };
        var pop3 = new Option<string?>("--pop3") { Description = "POP3 server host[:port]" };
        var imapSecurity = SecurityOption("--imap-security");
        var smtpSecurity = SecurityOption("--smtp-security");
        var pop3Security = SecurityOption("--pop3-security");
        var passwordFile = new Option<string?>("--password-file") { Description = "File holding the password (mode 0600)" };
        var storePassword = new Option<bool>("--store-password") { Description = "Store the password in the config file (from POCHTA_MAIL_PASSWORD or a prompt)" };
        var caFile = new Option<string?>("--ca-file") { Description = "Extra trusted CA certificate (PEM) for this account's servers" };
        var makeDefault = new Option<bool>("--default") { Description = "Make this the default account" };

        var command = new Command("add", "Add an account")
        {
            name, address, displayName, login, imap, smtp, pop3, imapSecurity, smtpSecurity, pop3Security,
            passwordFile, storePassword, caFile, makeDefault,
        };
        return command.Bind(globals, environment, async context =>
        {
            var accountName = context.Get(name)!;
            var email = context.Get(address)!;
            if (!MimeKit.MailboxAddress.TryParse(email, out var parsed) || !parsed.Address.Contains('@', StringComparison.Ordinal))
            {
                throw ClientException.Usage($"bad address {email}");
            }

            DiscoveredSettings? discovered = null;
            if (context.Get(imap) is null && context.Get(smtp) is null && context.Get(pop3) is null)
            {
                discovered = await environment.Discovery().DiscoverAsync(parsed.Address, context.CancellationToken)
                    ?? throw ClientException.Usage($"no server settings found for {parsed.Address} (autoconfig, SRV): give --imap, --smtp, --pop3");
                if (!context.Json)
                {
                    context.Out.WriteLine($"found settings via {discovered.Source}");
                }
            }

            var file = context.Get(passwordFile);
            if (file is not null)
            {
                file = Path.GetFullPath(file);
                _ = await PasswordResolver.ReadPasswordFileAsync(file, context.CancellationToken);
            }

            var ca = context.Get(caFile) is { } caPath ? Path.GetFullPath(caPath) : null;
            if (ca is not null)
            {
                _ = CertificateTrust.ForCaFile(ca);
            }

            string? password = null;
            if (context.Get(storePassword))
            {
                password = environment.GetVariable(PasswordResolver.EnvironmentVariable) is { Length: > 0 } fromEnvironment
                    ? fromEnvironment
                    : await environment.PromptSecret($"Password for {email}:", context.CancellationToken)
                        ?? throw ClientException.Usage($"--store-password: set {PasswordResolver.EnvironmentVariable} or run on a terminal");
            }

            var account = new AccountConfig
            {
                Name = accountName,
                Address = parsed.Address,
                DisplayName = context.Get(displayName) ?? (parsed.Name is { Length: > 0 } n ? n : null),
                Login = context.Get(login) ?? discovered?.Login,
                Imap = Endpoint(context.Get(imap), MailProtocol.Imap, context.Get(imapSecurity)) ?? discovered?.Imap,
                Smtp = Endpoint(context.Get(smtp), MailProtocol.Smtp, context.Get(smtpSecurity)) ?? discovered?.Smtp,
                Pop3 = Endpoint(context.Get(pop3), MailProtocol.Pop3, context.Get(pop3Security)) ?? discovered?.Pop3,
                PasswordFile = file,
                Password = password,
                CaFile = ca,
            };

            var config = await context.ConfigStore.LoadAsync(context.CancellationToken);
            if (config.Accounts.Any(a => string.Equals(a.Name, accountName, StringComparison.Ordinal)))
            {
                throw new ClientException(ExitCodes.Refused, $"account {accountName} already exists");
            }

            config = config with
            {
                Accounts = [.. config.Accounts, account],
                DefaultAccount = context.Get(makeDefault) || config.DefaultAccount is null ? accountName : config.DefaultAccount,
            };
            await context.ConfigStore.SaveAsync(config, context.CancellationToken);
            if (context.Json)
            {
                context.WriteJson(AccountListVerb.ToView(account, config.DefaultAccount));
            }
            else
            {
                context.Out.WriteLine($"added account {accountName} ({account.Address}) to {context.ConfigStore.Path}");
            }

            return ExitCodes.Ok;
        });
    }

    private static Option<string?> SecurityOption(string name)
    {
        var option = new Option<string?>(name) { Description = "tls, starttls or none (default: by port)" };
        option.AcceptOnlyFromAmong(SecurityModes);
        return option;
    }

    private static ServerEndpoint? Endpoint(string? text, MailProtocol protocol, string? security) =>
        text is null ? null : EndpointParser.Parse(text, protocol, security switch
        {
            "tls" => TransportSecurity.Tls,
            "starttls" => TransportSecurity.StartTls,
            "none" => TransportSecurity.None,
            _ => null,
        });
}