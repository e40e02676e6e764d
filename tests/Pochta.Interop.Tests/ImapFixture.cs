using Pochta.Core;

namespace Pochta.Interop.Tests;

/// <summary>One in-process Pochta server for the IMAP interop tests; each test uses its own account.</summary>
public sealed class ImapFixture() : InteropServerFixture("imap")
{
    public int ImapPort => Server.Port(MailProtocol.Imap);

    public int ImapsPort => Server.Port(MailProtocol.Imaps);

    /// <summary>Delivers messages into a mailbox of the account.</summary>
    public Task DeliverAsync(string address, string mailbox, params string[] messages) => DeliverToAsync(address, mailbox, messages);

    public static string Message(string subject, string body, string from = "sender@example.net", string? references = null) =>
        $"From: {from}\r\nTo: someone@example.test\r\nSubject: {subject}\r\nMessage-ID: <{Guid.NewGuid():N}@example.net>\r\n"
        + (references is null ? string.Empty : $"References: {references}\r\nIn-Reply-To: {references}\r\n")
        + $"Date: Tue, 01 Dec 2026 12:00:00 +0000\r\n\r\n{body}";
}