using System.Globalization;
using System.Text;

namespace Pochta.LoadGen.Common;

/// <summary>
/// Deterministic RFC 5322 test messages: the same seed gives the same messages for every server
/// compared. Lines are 76 characters of text, CRLF-terminated, never starting with '.', so the
/// bytes are valid SMTP DATA without dot-stuffing.
/// </summary>
internal static class MessageFactory
{
    private static readonly string[] Senders = ["alice@example.org", "bob@example.net", "carol@example.com", "dave@example.org"];
    private static readonly string[] Subjects = ["Quarterly report", "Lunch on Friday?", "Re: build failure", "Invoice 4711", "Meeting notes", "Holiday plans"];
    private static readonly string[] Words = ["mail", "server", "report", "budget", "release", "queue", "delivery", "message", "folder", "search", "invoice", "meeting"];

    /// <summary>Builds one message of about <paramref name="size"/> bytes.</summary>
    public static byte[] Build(int index, int size, string to, Random random)
    {
        var sb = new StringBuilder(size + 512);
        var date = new DateTimeOffset(2025, 1, 1, 8, 0, 0, TimeSpan.Zero).AddMinutes(index * 7);
        sb.Append("From: ").Append(Senders[index % Senders.Length]).Append("\r\n");
        sb.Append("To: ").Append(to).Append("\r\n");
        sb.Append("Subject: ").Append(Subjects[index % Subjects.Length]).Append(' ').Append(index.ToString(CultureInfo.InvariantCulture)).Append("\r\n");
        sb.Append("Date: ").Append(date.ToString("ddd, dd MMM yyyy HH:mm:ss +0000", CultureInfo.InvariantCulture)).Append("\r\n");
        sb.Append("Message-ID: <").Append(index.ToString("D10", CultureInfo.InvariantCulture)).Append(".bench@loadgen.test>\r\n");
        sb.Append("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n");
        var line = new StringBuilder(80);
        while (sb.Length < size)
        {
            line.Clear();
            while (line.Length < 70)
            {
                line.Append(Words[random.Next(Words.Length)]).Append(' ');
            }

            sb.Append(line).Append("\r\n");
        }

        return Encoding.ASCII.GetBytes(sb.ToString());
    }

    /// <summary>
    /// "Mixed" sizes, roughly a mailbox's: 70% 1-10 KB, 25% 10-100 KB, 5% 100-500 KB (mean ≈ 32 KB).
    /// </summary>
    public static int MixedSize(Random random)
    {
        int roll = random.Next(100);
        return roll < 70 ? random.Next(1_024, 10_240)
            : roll < 95 ? random.Next(10_240, 102_400)
            : random.Next(102_400, 512_000);
    }

    /// <summary>Parses "5k", "1m", "300", or "mixed" (returns 0 for mixed).</summary>
    public static int ParseSize(string text)
    {
        if (text.Equals("mixed", StringComparison.OrdinalIgnoreCase))
        {
            return 0;
        }

        int multiplier = 1;
        char last = char.ToLowerInvariant(text[^1]);
        if (last == 'k')
        {
            multiplier = 1024;
        }
        else if (last == 'm')
        {
            multiplier = 1024 * 1024;
        }

        var digits = multiplier == 1 ? text : text[..^1];
        return int.Parse(digits, CultureInfo.InvariantCulture) * multiplier;
    }
}