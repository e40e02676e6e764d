using System.Text;

using Pochta.Core;

namespace Pochta.Interop.Tests;

/// <summary>One in-process Pochta server for the POP3 interop tests; each test uses its own account.</summary>
public sealed class Pop3Fixture() : InteropServerFixture("pop")
{
    public int Pop3Port => Server.Port(MailProtocol.Pop3);

    public int Pop3sPort => Server.Port(MailProtocol.Pop3s);

    /// <summary>Delivers messages into the account's INBOX.</summary>
    public Task DeliverAsync(string address, params string[] messages) => DeliverToAsync(address, "INBOX", messages);

    public async Task<List<string>> InboxAsync(string address) =>
        [.. (await Server.ReadMailboxAsync(address)).Select(b => Encoding.UTF8.GetString(b))];

    public static string Message(string subject, string body) =>
        $"From: sender@example.net\r\nTo: someone@example.test\r\nSubject: {subject}\r\nMessage-ID: <{Guid.NewGuid():N}@example.net>\r\nDate: Tue, 01 Dec 2026 12:00:00 +0000\r\n\r\n{body}";

    /// <summary>A body with lines that need byte-stuffing and enough size to be stored as a blob file.</summary>
    public static string LargeBody()
    {
        var body = new StringBuilder();
        for (var i = 0; i < 6000; i++)
        {
            body.Append(i % 9 == 0 ? ".stuffed line " : "line ").Append(i).Append(' ').Append('x', 20).Append("\r\n");
        }

        return body.ToString();
    }
}

/// <summary>A scratch directory deleted at dispose.</summary>
internal sealed class Pop3TempDirectory : IDisposable
{
    public Pop3TempDirectory()
    {
        Directory.CreateDirectory(Path);
    }

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "pochta-pop3-interop-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}