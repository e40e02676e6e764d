using System.CommandLine;

using Pochta.Client.Cli;

namespace Pochta.Client.Verbs;

/// <summary><c>mail account remove NAME</c>.</summary>
internal static class AccountRemoveVerb
{
    public static Command Create(GlobalOptions globals, ClientEnvironment environment)
    {
        var name = new Argument<string>("name") { Description = "Account to remove" };
        var command = new Command("remove", "Remove an account") { name };
        return command.Bind(globals, environment, async context =>
        {
            var accountName = context.Get(name)!;
            var config = await context.ConfigStore.LoadAsync(context.CancellationToken);
            var remaining = config.Accounts.Where(a => !string.Equals(a.Name, accountName, StringComparison.Ordinal)).ToList();
            if (remaining.Count == config.Accounts.Count)
            {
                throw ClientException.NotFound($"no account named {accountName}");
            }

            var defaultAccount = string.Equals(config.DefaultAccount, accountName, StringComparison.Ordinal)
                ? remaining.FirstOrDefault()?.Name
                : config.DefaultAccount;
            await context.ConfigStore.SaveAsync(config with { Accounts = remaining, DefaultAccount = defaultAccount }, context.CancellationToken);
            if (context.Json)
            {
                context.WriteJson(new { removed = accountName });
            }
            else
            {
                context.Out.WriteLine($"removed account {accountName}");
            }

            return ExitCodes.Ok;
        });
    }
}