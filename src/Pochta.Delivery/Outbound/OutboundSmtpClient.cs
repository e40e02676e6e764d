using System.Net.Security;

using MailKit;
using MailKit.Net.Smtp;

using MimeKit;

namespace Pochta.Delivery.Outbound;

/// <summary>The RFC 3461 parameters to relay with one recipient.</summary>
internal sealed record RelayRecipient(string Address, string? Notify, string? OriginalRecipient);

/// <summary>
/// MailKit's SmtpClient, adapted for relaying: a rejected recipient is recorded instead of
/// aborting the transaction (the others still get the message), and the DSN parameters we
/// received (NOTIFY, ORCPT, ENVID, RET) are passed on when the server offers DSN.
/// Certificate policy: validated, except that opportunistic TLS to an MX host may accept an
/// unverified certificate when configured (RFC 7435 §4: unauthenticated encryption beats
/// plaintext). Never an unconditional accept.
/// </summary>
internal sealed class OutboundSmtpClient : SmtpClient
{
    private readonly Dictionary<string, SmtpResponse> _responses = new(StringComparer.OrdinalIgnoreCase);
    private Dictionary<string, RelayRecipient> _recipients = new Dictionary<string, RelayRecipient>();
    private string? _envelopeId;

    public OutboundSmtpClient(TlsPolicy policy, bool acceptUnverifiedOpportunistic)
    {
        Policy = policy;
        ServerCertificateValidationCallback = (_, _, _, errors) =>
            errors == SslPolicyErrors.None || (policy == TlsPolicy.Opportunistic && acceptUnverifiedOpportunistic);
    }

    public TlsPolicy Policy { get; }

    /// <summary>RCPT replies of the current transaction, by recipient address.</summary>
    public IReadOnlyDictionary<string, SmtpResponse> RecipientResponses => _responses;

    public int AcceptedCount { get; private set; }

    /// <summary>Sets the parameters of the next transaction.</summary>
    public void BeginTransaction(string? envelopeId, bool returnFull, IReadOnlyList<RelayRecipient> recipients)
    {
        _responses.Clear();
        AcceptedCount = 0;
        _envelopeId = envelopeId;
        _recipients = new Dictionary<string, RelayRecipient>(StringComparer.OrdinalIgnoreCase);
        foreach (var r in recipients)
        {
            _recipients.TryAdd(r.Address, r); // a queue entry may list an address twice (aliases): send it once
        }

        // RFC 3461 §4.3: RET is relayed as received; HDRS is the default when absent.
        DeliveryStatusNotificationType = returnFull ? DeliveryStatusNotificationType.Full : DeliveryStatusNotificationType.Unspecified;
    }

    protected override string? GetEnvelopeId(MimeMessage message) => _envelopeId;

    /// <summary>RFC 3461 §4.1: NOTIFY is relayed as received; absent stays absent.</summary>
    protected override DeliveryStatusNotification? GetDeliveryStatusNotifications(MimeMessage message, MailboxAddress mailbox)
    {
        if (!_recipients.TryGetValue(mailbox.Address, out var r) || r.Notify is null)
        {
            return null;
        }

        var flags = Notify.Parse(r.Notify, delayWhenAbsent: false);
        if (flags.HasFlag(NotifyFlags.Never))
        {
            return DeliveryStatusNotification.Never;
        }

        DeliveryStatusNotification result = 0;
        if (flags.HasFlag(NotifyFlags.Success))
        {
            result |= DeliveryStatusNotification.Success;
        }

        if (flags.HasFlag(NotifyFlags.Failure))
        {
            result |= DeliveryStatusNotification.Failure;
        }

        if (flags.HasFlag(NotifyFlags.Delay))
        {
            result |= DeliveryStatusNotification.Delay;
        }

        return result;
    }

    /// <summary>True when the session runs over TLS (set by the connector, which does the
    /// handshake itself; MailKit's own IsSecure only knows about TLS it negotiated).</summary>
    public bool Tls { get; set; }

    /// <summary>
    /// RFC 3461 §4.2: "the ORCPT parameter ... MUST be relayed unchanged" when one was
    /// received. MailKit builds RCPT itself and writes ORCPT as <c>rfc822;</c> + the RCPT
    /// address (only with NOTIFY); <see cref="SmtpCommandRewriteStream"/> hands us each
    /// command line and this puts the stored ORCPT (kept as received, <c>addr-type;xtext</c>)
    /// in its place, or adds it when MailKit wrote none (no NOTIFY received), for servers that
    /// offer DSN. RFC 6533 §3: a <c>utf-8</c> value in unitext form (raw UTF-8, received with
    /// SMTPUTF8) goes as utf-8-addr-xtext (<c>\x{HEX}</c>) to a server without SMTPUTF8.
    /// Every other command passes unchanged.
    /// </summary>
    internal string RewriteCommand(string line)
    {
        const string Prefix = "RCPT TO:<";
        if (!Capabilities.HasFlag(SmtpCapabilities.Dsn) || !line.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
        {
            return line;
        }

        var close = line.IndexOf('>', Prefix.Length);
        if (close < 0 || !_recipients.TryGetValue(line[Prefix.Length..close], out var r) || r.OriginalRecipient is not { } orcpt)
        {
            return line;
        }

        var semi = orcpt.IndexOf(';', StringComparison.Ordinal);
        if (semi <= 0)
        {
            return line;
        }

        if (string.Equals(orcpt[..semi], "utf-8", StringComparison.OrdinalIgnoreCase) && !Capabilities.HasFlag(SmtpCapabilities.UTF8) && !System.Text.Ascii.IsValid(orcpt))
        {
            orcpt = orcpt[..(semi + 1)] + ToUtf8AddrXtext(orcpt[(semi + 1)..]);
        }

        var parameters = line[(close + 1)..];
        var at = parameters.IndexOf(" ORCPT=", StringComparison.OrdinalIgnoreCase);
        if (at < 0)
        {
            return line + " ORCPT=" + orcpt;
        }

        var end = parameters.IndexOf(' ', at + 1);
        return line[..(close + 1)] + parameters[..at] + " ORCPT=" + orcpt + (end < 0 ? "" : parameters[end..]);
    }

    /// <summary>RFC 6533 §3: every non-ASCII character (and backslash, "+", "=", controls) of a
    /// utf-8 address becomes <c>\x{HEX}</c> (EmbeddedUnicodeChar); the rest stays (QCHAR). An
    /// <c>\x{</c> already there is kept.</summary>
    internal static string ToUtf8AddrXtext(string value)
    {
        var builder = new System.Text.StringBuilder(value.Length + 8);
        for (var i = 0; i < value.Length; i++)
        {
            int c = value[i];
            if (char.IsHighSurrogate(value[i]) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                c = char.ConvertToUtf32(value[i], value[i + 1]);
                i++;
            }

            if (c == '\\' && i + 2 < value.Length && value[i + 1] == 'x' && value[i + 2] == '{')
            {
                builder.Append('\\');
            }
            else if (c is < 0x21 or > 0x7e or '+' or '=' or '\\')
            {
                builder.Append("\\x{").Append(c.ToString("X", System.Globalization.CultureInfo.InvariantCulture)).Append('}');
            }
            else
            {
                builder.Append((char)c);
            }
        }

        return builder.ToString();
    }

    /// <summary>Never re-encodes: DestinationSession converts a message for a 7-bit server
    /// (RFC 6152 §3) itself, before DKIM signing, so the signature covers the bytes sent.</summary>
    protected override void Prepare(FormatOptions options, MimeMessage message, EncodingConstraint constraint, int maxLineLength)
    {
    }

    protected override void OnRecipientAccepted(MimeMessage message, MailboxAddress mailbox, SmtpResponse response)
    {
        _responses[mailbox.Address] = response;
        AcceptedCount++;
    }

    /// <summary>Records the rejection; the transaction goes on with the other recipients.</summary>
    protected override void OnRecipientNotAccepted(MimeMessage message, MailboxAddress mailbox, SmtpResponse response) =>
        _responses[mailbox.Address] = response;

    /// <summary>Every recipient refused: abort before DATA (MailKit then sends RSET and keeps the connection).</summary>
    protected override void OnNoRecipientsAccepted(MimeMessage message) =>
        throw new SmtpCommandException(SmtpErrorCode.MessageNotAccepted, SmtpStatusCode.TransactionFailed, "No recipients were accepted.");
}