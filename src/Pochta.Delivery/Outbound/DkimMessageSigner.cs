using MimeKit;

namespace Pochta.Delivery.Outbound;

/// <summary>Signs outgoing mail whose From domain has DKIM keys (relaxed/relaxed, RFC 6376).</summary>
public sealed class DkimMessageSigner(DkimKeyStore? keys)
{
    /// <summary>RFC 6376 §5.4.1: the header fields worth signing; From is required. Only fields
    /// present in the message are listed.</summary>
    private static readonly HeaderId[] SignedHeaders =
    [
        HeaderId.From, HeaderId.Sender, HeaderId.ReplyTo, HeaderId.To, HeaderId.Cc, HeaderId.Subject, HeaderId.Date,
        HeaderId.MessageId, HeaderId.InReplyTo, HeaderId.References, HeaderId.MimeVersion, HeaderId.ContentType,
        HeaderId.ContentTransferEncoding, HeaderId.ListId, HeaderId.ListUnsubscribe,
    ];

    /// <summary>Adds DKIM-Signature fields (one per active key). Returns the signing domain, or
    /// null when the message was not signed.</summary>
    public string? Sign(MimeMessage message)
    {
        if (keys is null || message.From.Mailboxes.FirstOrDefault() is not { } from)
        {
            return null;
        }

        var at = from.Address.LastIndexOf('@');
        if (at < 0)
        {
            return null;
        }

        var domain = from.Address[(at + 1)..].ToLowerInvariant();
        IReadOnlyList<MimeKit.Cryptography.DkimSigner> signers;
        try
        {
            signers = keys.CreateSigners(domain);
        }
        catch (ArgumentException)
        {
            return null;
        }

        if (signers.Count == 0)
        {
            return null;
        }

        var headers = SignedHeaders.Where(id => message.Headers.Contains(id)).ToList();
        var format = FormatOptions.Default.Clone();
        format.NewLineFormat = NewLineFormat.Dos;
        foreach (var signer in signers)
        {
            signer.Sign(format, message, headers);
        }

        return domain;
    }
}