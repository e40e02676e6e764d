using System.CommandLine;

using Pochta.Client.Cli;
using Pochta.Client.Config;

using Spectre.Console;

namespace Pochta.Client.Verbs;

internal sealed record AccountView(string Name, string Address, string Login, string? Imap, string? Smtp, string? Pop3, bool IsDefault, string PasswordSource);

/// <summary><c>mail account list</c>. Passwords are never shown.</summary>
internal static class AccountListVerb
{
    public static Command Create(GlobalOptions globals, ClientEnvironment environment)
    {
        var command = new Command("list", "List accounts");
        return command.Bind(globals, environment, async context =>
        {
            var config = await context.ConfigStore.LoadAsync(context.CancellationToken);
            var views = config.Accounts.Select(a => ToView(a, config.DefaultAccount)).ToList();
            if (context.Json)
            {
                context.WriteJson(views);
                return ExitCodes.Ok;
            }

            if (views.Count == 0)
            {
                context.Out.WriteLine("no accounts");
                return ExitCodes.Ok;
            }

            var table = new Table().AddColumns("Name", "Address", "IMAP", "SMTP", "POP3", "Password");
            foreach (var view in views)
            {
                table.AddRow(
                    new Text(view.IsDefault ? view.Name + " *" : view.Name),
                    new Text(view.Address),
                    new Text(view.Imap ?? "-"),
                    new Text(view.Smtp ?? "-"),
                    new Text(view.Pop3 ?? "-"),
                    new Text(view.PasswordSource));
            }

            context.Console.Write(table);
            return ExitCodes.Ok;
        });
    }

    internal static AccountView ToView(AccountConfig account, string? defaultAccount) => new(
        account.Name,
        account.Address,
        account.LoginName,
        Describe(account.Imap),
        Describe(account.Smtp),
        Describe(account.Pop3),
        string.Equals(account.Name, defaultAccount, StringComparison.Ordinal),
        account.PasswordFile is not null ? "file" : !string.IsNullOrEmpty(account.Password) ? "stored" : "prompt");

    private static string? Describe(ServerEndpoint? endpoint) =>
        endpoint is null ? null : $"{endpoint.Host}:{endpoint.Port} ({endpoint.Security.ToString().ToUpperInvariant()})";
}