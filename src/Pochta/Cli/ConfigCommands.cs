using System.CommandLine;

using Microsoft.Extensions.DependencyInjection;

using Pochta.Configuration;

using Spectre.Console;

namespace Pochta.Cli;

/// <summary><c>config show</c>: the effective configuration, secrets masked.</summary>
internal static class ConfigCommands
{
    public static Command Create(CommandContext context)
    {
        var config = new Command("config", "Configuration");
        var dev = new Option<bool>("--dev") { Description = "Show what serve --dev would use" };
        var show = new Command("show", "Every key with its effective value (defaults included), secrets masked") { dev };
        show.SetAction((result, ct) => context.GuardAsync(() =>
        {
            var input = context.Input(result) with { Development = result.GetValue(dev) };
            var built = PochtaConfiguration.Build(input);
            var services = new ServiceCollection();
            services.AddPochtaCore(built.Root).AddPochtaServer();
            var schema = ConfigurationSchema.FromServices(services);
            foreach (var unknown in schema.FindUnknownKeys(built.OperatorKeys))
            {
                context.Console.Warn($"unknown configuration key {unknown.Key} ({unknown.Source}); it is ignored");
            }

            var values = schema.Describe(built.Root);
            if (context.Json(result))
            {
                context.Console.WriteJson(new
                {
                    built.DataDirectory,
                    built.ConfigFile,
                    Values = values.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.OrdinalIgnoreCase),
                });
                return Task.FromResult(ExitCodes.Success);
            }

            context.Console.Line($"data directory: {built.DataDirectory}");
            context.Console.Line($"configuration file: {built.ConfigFile ?? "(none)"}");
            var table = new Table().AddColumns("Key", "Value");
            foreach (var (key, value) in values)
            {
                table.AddRow(Markup.Escape(key), Markup.Escape(value));
            }

            context.Console.Ansi.Write(table);
            return Task.FromResult(ExitCodes.Success);
        }));
        config.Subcommands.Add(show);
        return config;
    }
}