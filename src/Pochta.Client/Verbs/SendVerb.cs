using System.CommandLine;

using Pochta.Client.Cli;
using Pochta.Client.Compose;

namespace Pochta.Client.Verbs;

/// <summary><c>mail send --to A [--cc] [--bcc] --subject S [--attach FILE]... [--html FILE]</c>, body on stdin.</summary>
internal static class SendVerb
{
    public static Command Create(GlobalOptions globals, ClientEnvironment environment)
    {
        var to = Multi("--to", "Recipient (repeat or comma-separate)");
        var cc = Multi("--cc", "Copy recipient");
        var bcc = Multi("--bcc", "Blind copy recipient");
        var subject = new Option<string?>("--subject", "-s") { Description = "Subject" };
        var attach = Multi("--attach", "File to attach (repeatable)");
        var html = new Option<string?>("--html") { Description = "HTML body from a file (sent as an alternative to the text)" };
        var noSave = new Option<bool>("--no-save") { Description = "Do not keep a copy in Sent" };

        var command = new Command("send", "Send a message; the body is read from stdin or $EDITOR")
        {
            to, cc, bcc, subject, attach, html, noSave,
        };
        return command.Bind(globals, environment, async context =>
        {
            var account = await context.GetAccountAsync();
            var htmlText = context.Get(html) is { } htmlPath ? await ReadFileAsync(htmlPath, context.CancellationToken) : null;
            var text = await BodySource.ReadAsync(context);
            if (text is null && htmlText is null)
            {
                throw ClientException.Usage("no message body: pipe it on stdin, set $EDITOR, or give --html");
            }

            var draft = new Draft
            {
                From = Submission.Self(account),
                To = Args.ParseAddresses(context.Get(to)),
                Cc = Args.ParseAddresses(context.Get(cc)),
                Bcc = Args.ParseAddresses(context.Get(bcc)),
                Subject = context.Get(subject) ?? string.Empty,
                Text = text,
                Html = htmlText,
                Attachments = context.Get(attach) ?? [],
            };
            using var composed = new MessageComposer(environment.Time).Compose(draft);
            var result = await Submission.SendAsync(context, account, composed.Message, !context.Get(noSave));
            Submission.Report(context, result);
            return ExitCodes.Ok;
        });
    }

    internal static Option<string[]> Multi(string name, string description) =>
        new(name) { Description = description, AllowMultipleArgumentsPerToken = false, Arity = ArgumentArity.ZeroOrMore };

    private static async Task<string> ReadFileAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            return await File.ReadAllTextAsync(path, cancellationToken);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw ClientException.Usage($"cannot read {path}: {e.Message}");
        }
    }
}