using System.Diagnostics;
using System.Text;

using Pochta.Client.Config;

namespace Pochta.Client.Cli;

/// <summary>The body of a new message: standard input when it is redirected, else $EDITOR on a
/// temporary owner-only file, else nothing.</summary>
internal static class BodySource
{
    public static async Task<string?> ReadAsync(VerbContext context, string initialText = "")
    {
        if (context.Environment.InputRedirected)
        {
            await using var stdin = context.Environment.OpenStandardInput();
            using var reader = new StreamReader(stdin, new UTF8Encoding(false));
            return await reader.ReadToEndAsync(context.CancellationToken);
        }

        var editor = context.Environment.GetVariable("VISUAL") is { Length: > 0 } visual ? visual : context.Environment.GetVariable("EDITOR");
        if (string.IsNullOrWhiteSpace(editor))
        {
            return null;
        }

        var path = Path.Combine(Path.GetTempPath(), $"pochta-{Guid.NewGuid():N}.txt");
        try
        {
            await using (var file = SecureFile.CreateOwnerOnly(path))
            {
                await file.WriteAsync(Encoding.UTF8.GetBytes(initialText), context.CancellationToken);
            }

            // The editor value may carry arguments ("code --wait"): let the shell split it.
            var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add(editor + " \"$1\"");
            start.ArgumentList.Add("pochta");
            start.ArgumentList.Add(path);
            using var process = Process.Start(start) ?? throw ClientException.Usage($"cannot start editor {editor}");
            await process.WaitForExitAsync(context.CancellationToken);
            if (process.ExitCode != 0)
            {
                throw ClientException.Usage($"editor exited with code {process.ExitCode}; nothing sent");
            }

            return await File.ReadAllTextAsync(path, context.CancellationToken);
        }
        finally
        {
            File.Delete(path);
        }
    }
}