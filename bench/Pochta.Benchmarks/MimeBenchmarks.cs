using System.Text;

using BenchmarkDotNet.Attributes;

using Pochta.Mime;

namespace Pochta.Benchmarks;

/// <summary>
/// Parse-once-at-delivery cost: MessageIndexer (MimeKit parse + envelope, body structure with
/// byte ranges, search text) on a 5 KB text message and a 1 MB multipart message with a base64
/// attachment, and the index serializer both ways.
/// </summary>
[MemoryDiagnoser]
public class MimeBenchmarks
{
    private byte[] small = [];
    private byte[] large = [];
    private MessageIndex smallIndex = null!;
    private MessageIndex largeIndex = null!;
    private byte[] smallSerialized = [];
    private byte[] largeSerialized = [];

    [GlobalSetup]
    public async Task Setup()
    {
        small = BuildText(5 * 1024);
        large = BuildMultipart(1024 * 1024);
        smallIndex = await MessageIndexer.IndexAsync(new MemoryStream(small), CancellationToken.None);
        largeIndex = await MessageIndexer.IndexAsync(new MemoryStream(large), CancellationToken.None);
        smallSerialized = MessageIndexSerializer.Serialize(smallIndex);
        largeSerialized = MessageIndexSerializer.Serialize(largeIndex);
    }

    [Benchmark]
    public Task<MessageIndex> Index5KB() => MessageIndexer.IndexAsync(new MemoryStream(small, writable: false), CancellationToken.None);

    [Benchmark]
    public Task<MessageIndex> Index1MB() => MessageIndexer.IndexAsync(new MemoryStream(large, writable: false), CancellationToken.None);

    [Benchmark]
    public byte[] Serialize5KB() => MessageIndexSerializer.Serialize(smallIndex);

    [Benchmark]
    public byte[] Serialize1MB() => MessageIndexSerializer.Serialize(largeIndex);

    [Benchmark]
    public MessageIndex Deserialize5KB() => MessageIndexSerializer.Deserialize(smallSerialized);

    [Benchmark]
    public MessageIndex Deserialize1MB() => MessageIndexSerializer.Deserialize(largeSerialized);

    /// <summary>What a FETCH ENVELOPE needs: the envelope alone.</summary>
    [Benchmark]
    public long DeserializeEnvelope5KB() => MessageIndexSerializer.DeserializeEnvelope(smallSerialized).Size;

    private static string Headers(string contentType) =>
        "Return-Path: <alice@example.org>\r\n" +
        "Received: from mx.example.org (mx.example.org [192.0.2.1]) by mx.bench.test with ESMTPS id 4711; Tue, 1 Dec 2026 18:00:00 +0000\r\n" +
        "From: \"Alice Example\" <alice@example.org>\r\n" +
        "To: Bob <bob@bench.test>, carol@bench.test\r\n" +
        "Cc: =?UTF-8?Q?J=C3=BCrgen?= <juergen@example.net>\r\n" +
        "Subject: =?UTF-8?B?UXVhcnRlcmx5IHJlcG9ydCDigJMgUTQ=?=\r\n" +
        "Date: Tue, 1 Dec 2026 18:00:00 +0000\r\n" +
        "Message-ID: <20261201180000.4711@example.org>\r\n" +
        "In-Reply-To: <20261130120000.1@bench.test>\r\n" +
        "References: <20261130120000.1@bench.test>\r\n" +
        "MIME-Version: 1.0\r\n" +
        "Content-Type: " + contentType + "\r\n";

    private static string Text(int size)
    {
        var words = new[] { "mail", "server", "report", "budget", "release", "queue", "delivery", "message", "folder", "search" };
        var sb = new StringBuilder(size + 100);
        var random = new Random(1);
        while (sb.Length < size)
        {
            int start = sb.Length;
            while (sb.Length - start < 72)
            {
                sb.Append(words[random.Next(words.Length)]).Append(' ');
            }

            sb.Append("\r\n");
        }

        return sb.ToString();
    }

    private static byte[] BuildText(int size) =>
        Encoding.ASCII.GetBytes(Headers("text/plain; charset=us-ascii") + "\r\n" + Text(size - 900));

    private static byte[] BuildMultipart(int size)
    {
        var attachment = new byte[size * 3 / 4 - 8192];
        new Random(2).NextBytes(attachment);
        var b64 = Convert.ToBase64String(attachment, Base64FormattingOptions.InsertLineBreaks);
        var body = new StringBuilder()
            .Append(Headers("multipart/mixed; boundary=\"=_b1\"")).Append("\r\n")
            .Append("--=_b1\r\nContent-Type: multipart/alternative; boundary=\"=_b2\"\r\n\r\n")
            .Append("--=_b2\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n").Append(Text(3000))
            .Append("--=_b2\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>").Append(Text(3000)).Append("</p></body></html>\r\n")
            .Append("--=_b2--\r\n")
            .Append("--=_b1\r\nContent-Type: application/pdf; name=\"report.pdf\"\r\nContent-Disposition: attachment; filename=\"report.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
            .Append(b64).Append("\r\n--=_b1--\r\n");
        return Encoding.ASCII.GetBytes(body.ToString());
    }
}