using Pochta.Cli;

namespace Pochta;

internal static class Program
{
    /// <summary>Exit codes: 0 success, 1 refused (not found, exists, needs --force),
    /// 2 usage, configuration or environment error.</summary>
    public static Task<int> Main(string[] args) => CliApp.RunAsync(args, CliConsole.Process());
}