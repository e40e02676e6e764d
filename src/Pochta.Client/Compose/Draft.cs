using MimeKit;

namespace Pochta.Client.Compose;

/// <summary>What the user asked to send, before MIME.</summary>
internal sealed record Draft
{
    public required MailboxAddress From { get; init; }

    public IReadOnlyList<InternetAddress> To { get; init; } = [];

    public IReadOnlyList<InternetAddress> Cc { get; init; } = [];

    public IReadOnlyList<InternetAddress> Bcc { get; init; } = [];

    public string Subject { get; init; } = string.Empty;

    /// <summary>The text/plain body; null when only HTML was given.</summary>
    public string? Text { get; init; }

    public string? Html { get; init; }

    /// <summary>Files to attach, by path.</summary>
    public IReadOnlyList<string> Attachments { get; init; } = [];

    public string? InReplyTo { get; init; }

    public IReadOnlyList<string> References { get; init; } = [];

    /// <summary>A message forwarded whole, as message/rfc822 (RFC 2046 §5.2.1).</summary>
    public MimeMessage? Forwarded { get; init; }
}

/// <summary>A composed message and the attachment files it streams from.</summary>
internal sealed class ComposedMessage(MimeMessage message, IReadOnlyList<IDisposable> resources) : IDisposable
{
    public MimeMessage Message { get; } = message;

    public void Dispose()
    {
        foreach (var resource in resources)
        {
            resource.Dispose();
        }

        Message.Dispose();
    }
}