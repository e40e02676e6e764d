using System.CommandLine;

using MailKit;
using MailKit.Net.Imap;
using MailKit.Net.Pop3;
using MailKit.Net.Smtp;

using Pochta.Client.Net;

namespace Pochta.Client.Cli;

/// <summary>Binds a verb's action: builds its context, maps failures to one line on stderr and
/// an exit code (<see cref="ExitCodes"/>).</summary>
internal static class Verb
{
    public static Command Bind(this Command command, GlobalOptions globals, ClientEnvironment environment, Func<VerbContext, Task<int>> action)
    {
        command.SetAction(async (parse, cancellationToken) =>
        {
            var context = new VerbContext(parse, environment, globals, cancellationToken);
            try
            {
                return await action(context);
            }
            catch (Exception e)
            {
                var (code, message) = Describe(e);
                await parse.InvocationConfiguration.Error.WriteLineAsync("pochta mail: " + message);
                return code;
            }
            finally
            {
                await context.DisposeAsync();
            }
        });
        return command;
    }

    internal static (int Code, string Message) Describe(Exception exception) => exception switch
    {
        ClientException e => (e.ExitCode, e.Message),
        FolderNotFoundException e => (ExitCodes.Refused, $"folder not found: {e.FolderName}"),
        MessageNotFoundException => (ExitCodes.Refused, "message not found"),
        ImapCommandException e => (ExitCodes.Refused, $"IMAP server refused: {MailConnector.OneLine(e.ResponseText ?? e.Message)}"),
        SmtpCommandException e => (ExitCodes.Refused, $"SMTP server refused: {(int)e.StatusCode} {MailConnector.OneLine(e.Message)}"),
        Pop3CommandException e => (ExitCodes.Refused, $"POP3 server refused: {MailConnector.OneLine(e.StatusText ?? e.Message)}"),
        ProtocolException e => (ExitCodes.Error, $"protocol error: {MailConnector.OneLine(e.Message)}"),
        ServiceNotConnectedException => (ExitCodes.Error, "the connection was closed"),
        OperationCanceledException => (ExitCodes.Error, "cancelled"),
        IOException e => (ExitCodes.Error, MailConnector.OneLine(e.Message)),
        UnauthorizedAccessException e => (ExitCodes.Error, MailConnector.OneLine(e.Message)),
        _ => (ExitCodes.Error, $"{exception.GetType().Name}: {MailConnector.OneLine(exception.Message)}"),
    };
}