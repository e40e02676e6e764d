using System.Text;

namespace Pochta.Delivery.Tests;

/// <summary>The stream between MailKit and the connection: only command lines are rewritten,
/// message content (DATA up to CRLF.CRLF, BDAT chunks) passes untouched, however it is split
/// into writes; the greeting read before MailKit took over is replayed first.</summary>
public sealed class CommandRewriteStreamTests
{
    private static string Rewrite(string line) => line.StartsWith("RCPT TO:<a@x>", StringComparison.Ordinal) ? line + " ORCPT=rfc822;A@x" : line;

    private static async Task<string> WriteAllAsync(string input, int chunk)
    {
        var inner = new MemoryStream();
        await using var stream = new Outbound.SmtpCommandRewriteStream(inner, [], Rewrite);
        var bytes = Encoding.UTF8.GetBytes(input);
        for (var i = 0; i < bytes.Length; i += chunk)
        {
            await stream.WriteAsync(bytes.AsMemory(i, Math.Min(chunk, bytes.Length - i)));
        }

        return Encoding.UTF8.GetString(inner.ToArray());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(4096)]
    public async Task Only_rcpt_commands_change_and_data_content_is_left_alone_however_it_is_split(int chunk)
    {
        const string Input =
            "MAIL FROM:<s@y>\r\nRCPT TO:<a@x> NOTIFY=FAILURE\r\nRCPT TO:<b@x>\r\nDATA\r\n" +
            "Subject: t\r\n\r\nRCPT TO:<a@x> in the body\r\n..\r\n.x\r\n\r\n.\r\n" +
            "RCPT TO:<a@x>\r\nQUIT\r\n";
        const string Expected =
            "MAIL FROM:<s@y>\r\nRCPT TO:<a@x> NOTIFY=FAILURE ORCPT=rfc822;A@x\r\nRCPT TO:<b@x>\r\nDATA\r\n" +
            "Subject: t\r\n\r\nRCPT TO:<a@x> in the body\r\n..\r\n.x\r\n\r\n.\r\n" +
            "RCPT TO:<a@x> ORCPT=rfc822;A@x\r\nQUIT\r\n";
        Assert.Equal(Expected, await WriteAllAsync(Input, chunk));
    }

    [Fact]
    public async Task A_bdat_chunk_passes_as_is()
    {
        const string Input = "BDAT 17 LAST\r\nRCPT TO:<a@x>\r\n\r\nRCPT TO:<a@x>\r\n";
        Assert.Equal("BDAT 17 LAST\r\nRCPT TO:<a@x>\r\n\r\nRCPT TO:<a@x> ORCPT=rfc822;A@x\r\n", await WriteAllAsync(Input, 5));
    }

    [Fact]
    public async Task The_greeting_is_replayed_before_the_connection_is_read()
    {
        var inner = new MemoryStream(Encoding.ASCII.GetBytes("250 after\r\n"));
        await using var stream = new Outbound.SmtpCommandRewriteStream(inner, Encoding.ASCII.GetBytes("220 hello\r\n"), Rewrite);
        using var reader = new StreamReader(stream, Encoding.ASCII);
        Assert.Equal("220 hello", await reader.ReadLineAsync());
        Assert.Equal("250 after", await reader.ReadLineAsync());
    }
}