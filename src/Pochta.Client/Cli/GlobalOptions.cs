using System.CommandLine;

namespace Pochta.Client.Cli;

/// <summary>Options every verb of <c>mail</c> accepts.</summary>
internal sealed class GlobalOptions
{
    public Option<string?> Config { get; } = new("--config")
    {
        Description = "Configuration file (default ~/.config/pochta/mail.json)",
        Recursive = true,
    };

    public Option<string?> Account { get; } = new("--account", "-a")
    {
        Description = "Account name (default: the default account)",
        Recursive = true,
    };

    public Option<bool> Json { get; } = new("--json")
    {
        Description = "Machine-readable JSON output",
        Recursive = true,
    };

    public void AddTo(Command command)
    {
        command.Options.Add(Config);
        command.Options.Add(Account);
        command.Options.Add(Json);
    }
}