using System.CommandLine;

using Pochta.Client.Cli;
using Pochta.Client.Verbs;

namespace Pochta.Client;

/// <summary>The <c>mail</c> user agent: accounts, sending (SMTP submission), reading (IMAP),
/// downloading (POP3 into a Maildir). Exit codes: 0 ok, 1 refused or not found, 2 usage,
/// connection or authentication error.</summary>
public static class MailCommand
{
    public static Command Create() => Create(ClientEnvironment.Default);

    internal static Command Create(ClientEnvironment environment)
    {
        var globals = new GlobalOptions();
        var mail = new Command("mail", "Send, read and download mail");
        globals.AddTo(mail);

        var account = new Command("account", "Manage accounts")
        {
            AccountAddVerb.Create(globals, environment),
            AccountListVerb.Create(globals, environment),
            AccountRemoveVerb.Create(globals, environment),
        };
        mail.Subcommands.Add(account);
        mail.Subcommands.Add(SendVerb.Create(globals, environment));
        mail.Subcommands.Add(ReplyVerb.Create(globals, environment));
        mail.Subcommands.Add(ForwardVerb.Create(globals, environment));
        mail.Subcommands.Add(FoldersVerb.Create(globals, environment));
        mail.Subcommands.Add(ListVerb.Create(globals, environment));
        mail.Subcommands.Add(ReadVerb.Create(globals, environment));
        mail.Subcommands.Add(SaveAttachmentsVerb.Create(globals, environment));
        mail.Subcommands.Add(SearchVerb.Create(globals, environment));
        mail.Subcommands.Add(TransferVerb.Create(globals, environment, move: true));
        mail.Subcommands.Add(TransferVerb.Create(globals, environment, move: false));
        mail.Subcommands.Add(DeleteVerb.Create(globals, environment));
        mail.Subcommands.Add(FlagVerb.Create(globals, environment));
        mail.Subcommands.Add(WatchVerb.Create(globals, environment));
        mail.Subcommands.Add(FetchVerb.Create(globals, environment));
        return mail;
    }
}