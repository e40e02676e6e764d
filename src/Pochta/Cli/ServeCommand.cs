using System.CommandLine;

using Pochta.Server;

namespace Pochta.Cli;

/// <summary><c>serve [--dev] [--set K=V]...</c>: runs until SIGTERM/Ctrl+C, then stops gracefully.</summary>
internal static class ServeCommand
{
    public static Command Create(CommandContext context)
    {
        var dev = new Option<bool>("--dev") { Description = "Loopback-only development ports; creates example.test and a demo account on first start" };
        var set = new Option<string[]>("--set")
        {
            Description = "Override a configuration key, e.g. --set Server:HostName=mail.example.com (repeatable)",
            HelpName = "KEY=VALUE",
            DefaultValueFactory = _ => [],
        };
        var serve = new Command("serve", "Run the mail server") { dev, set };
        serve.SetAction((result, ct) => context.GuardAsync(async () =>
        {
            var input = context.Input(result) with { Development = result.GetValue(dev), Sets = result.GetValue(set) };
            await using var server = await ServerHost.StartAsync(new ServeSettings(input), context.Console.Out, context.Console.Error, ct);
            try
            {
                await server.WaitForShutdownAsync(ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                // Cancelled by the caller (in-process use); disposing stops the host.
            }

            return ExitCodes.Success;
        }));
        return serve;
    }
}