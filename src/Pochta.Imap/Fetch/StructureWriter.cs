using Pochta.Imap.Protocol;
using Pochta.Mime;

namespace Pochta.Imap.Fetch;

/// <summary>ENVELOPE, BODY and BODYSTRUCTURE (RFC 9051 §7.5.2 and §9 grammar) from the stored index.
/// NIL for absent fields, strings chosen by content (quoted or literal), extension data only in BODYSTRUCTURE.</summary>
internal static class StructureWriter
{
    public static void Envelope(ImapResponseWriter w, MessageEnvelope envelope)
    {
        var e = envelope.WithImapDefaults();
        w.Open();
        w.NString(e.Date).Space();
        w.NString(e.Subject).Space();
        Addresses(w, e.From);
        w.Space();
        Addresses(w, e.Sender);
        w.Space();
        Addresses(w, e.ReplyTo);
        w.Space();
        Addresses(w, e.To);
        w.Space();
        Addresses(w, e.Cc);
        w.Space();
        Addresses(w, e.Bcc);
        w.Space();
        w.NString(e.InReplyTo).Space();
        w.NString(e.MessageId);
        w.Close();
    }

    private static void Addresses(ImapResponseWriter w, IReadOnlyList<EnvelopeAddress>? list)
    {
        if (list is null || list.Count == 0)
        {
            w.Nil();
            return;
        }

        w.Open();
        foreach (var a in list)
        {
            // address = "(" addr-name SP addr-adl SP addr-mailbox SP addr-host ")"
            w.Open().NString(a.RawName).Space().NString(a.Route).Space().NString(a.Mailbox).Space().NString(a.Host).Close();
        }

        w.Close();
    }

    /// <summary>BODYSTRUCTURE when <paramref name="extensible"/>, else the non-extensible BODY.</summary>
    public static void Body(ImapResponseWriter w, BodyPart part, bool extensible)
    {
        w.Open();
        if (part.Kind == BodyPartKind.Multipart && part.Children.Count > 0)
        {
            // body-type-mpart = 1*body SP media-subtype [SP body-ext-mpart]
            foreach (var child in part.Children)
            {
                Body(w, child, extensible);
            }

            w.Space().QuotedOrLiteral(part.MediaSubtype);
            if (extensible)
            {
                w.Space();
                Parameters(w, part.Parameters);
                w.Space();
                Disposition(w, part.Disposition);
                w.Space();
                Languages(w, part.Languages);
                w.Space().NString(part.Location);
            }

            w.Close();
            return;
        }

        w.QuotedOrLiteral(part.MediaType).Space().QuotedOrLiteral(part.MediaSubtype).Space();

        // body-fields = body-fld-param SP body-fld-id SP body-fld-desc SP body-fld-enc SP body-fld-octets
        Parameters(w, part.Parameters);
        w.Space().NString(part.ContentId).Space().NString(part.Description).Space();
        w.QuotedOrLiteral(part.TransferEncoding is { Length: > 0 } cte ? cte.ToUpperInvariant() : "7BIT").Space();
        w.Number(part.BodySize);
        if (part.Kind == BodyPartKind.Message && part.Message is { } nested)
        {
            // body-type-msg = media-message SP body-fields SP envelope SP body SP body-fld-lines
            w.Space();
            Envelope(w, part.MessageEnvelope ?? MessageEnvelope.Empty);
            w.Space();
            Body(w, nested, extensible);
            w.Space().Number(part.Lines);
        }
        else if (part.IsText)
        {
            w.Space().Number(part.Lines);
        }

        if (extensible)
        {
            // body-ext-1part = body-fld-md5 SP body-fld-dsp SP body-fld-lang SP body-fld-loc
            w.Space().NString(part.Md5).Space();
            Disposition(w, part.Disposition);
            w.Space();
            Languages(w, part.Languages);
            w.Space().NString(part.Location);
        }

        w.Close();
    }

    private static void Parameters(ImapResponseWriter w, IReadOnlyList<BodyParameter> parameters)
    {
        if (parameters.Count == 0)
        {
            w.Nil();
            return;
        }

        w.Open();
        for (var i = 0; i < parameters.Count; i++)
        {
            if (i > 0)
            {
                w.Space();
            }

            w.QuotedOrLiteral(parameters[i].Name).Space().QuotedOrLiteral(parameters[i].Value);
        }

        w.Close();
    }

    private static void Disposition(ImapResponseWriter w, BodyDisposition? d)
    {
        if (d is null)
        {
            w.Nil();
            return;
        }

        w.Open().QuotedOrLiteral(d.Type).Space();
        Parameters(w, d.Parameters);
        w.Close();
    }

    private static void Languages(ImapResponseWriter w, IReadOnlyList<string>? languages)
    {
        if (languages is null || languages.Count == 0)
        {
            w.Nil();
            return;
        }

        if (languages.Count == 1)
        {
            w.QuotedOrLiteral(languages[0]);
            return;
        }

        w.Open();
        for (var i = 0; i < languages.Count; i++)
        {
            if (i > 0)
            {
                w.Space();
            }

            w.QuotedOrLiteral(languages[i]);
        }

        w.Close();
    }
}