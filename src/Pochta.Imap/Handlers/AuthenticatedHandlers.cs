using Pochta.Imap.Protocol;

namespace Pochta.Imap.Handlers;

/// <summary>RFC 5161 ENABLE (RFC 9051 §6.3.1): IMAP4rev2, CONDSTORE, QRESYNC (implies CONDSTORE), UTF8=ACCEPT.</summary>
internal sealed class EnableHandler : CommandHandler<EnableCommand>
{
    protected override Task<CommandResult> ExecuteAsync(ImapSession session, EnableCommand command, CancellationToken cancellationToken)
    {
        var newly = new List<string>();
        var before = session.Enabled;
        foreach (var cap in command.Capabilities)
        {
            var flag = cap switch
            {
                "IMAP4REV2" => Enabled.Rev2,
                "CONDSTORE" => Enabled.CondStore,
                "QRESYNC" => Enabled.QResync | Enabled.CondStore,
                "UTF8=ACCEPT" => Enabled.Utf8Accept,
                _ => Enabled.None,
            };
            if (flag == Enabled.None || (before & flag) == flag || newly.Contains(cap))
            {
                // RFC 5161 §3.1: unknown or already enabled extensions are silently ignored.
                continue;
            }

            session.Enable(flag);
            newly.Add(cap == "IMAP4REV2" ? "IMAP4rev2" : cap);
        }

        var w = session.Writer.Untagged().Raw("ENABLED"u8);
        foreach (var c in newly)
        {
            w.Space().Ascii(c);
        }

        w.EndLine();
        return Task.FromResult(CommandResult.Ok("ENABLE completed"));
    }
}

/// <summary>RFC 2342 NAMESPACE: one personal namespace, delimiter "/".</summary>
internal sealed class NamespaceHandler : CommandHandler<NamespaceCommand>
{
    protected override Task<CommandResult> ExecuteAsync(ImapSession session, NamespaceCommand command, CancellationToken cancellationToken)
    {
        session.Writer.Untagged().Raw("NAMESPACE ((\"\" \"/\")) NIL NIL"u8).EndLine();
        return Task.FromResult(CommandResult.Ok("NAMESPACE completed"));
    }
}

/// <summary>RFC 4978 COMPRESS=DEFLATE: OK in the clear, then both directions compressed.</summary>
internal sealed class CompressHandler : CommandHandler<CompressCommand>
{
    protected override async Task<CommandResult> ExecuteAsync(ImapSession session, CompressCommand command, CancellationToken cancellationToken)
    {
        if (command.Mechanism != "DEFLATE" || !session.Services.Options.AllowCompress)
        {
            return CommandResult.Bad("Unsupported compression mechanism");
        }

        if (session.IsCompressed)
        {
            return CommandResult.No("Compression is already active", "COMPRESSIONACTIVE");
        }

        session.Writer.Tagged(command.Tag, ImapStatus.Ok, null, "DEFLATE active");
        await session.FlushAsync(cancellationToken);
        session.StartCompression();
        return CommandResult.AlreadySent;
    }
}