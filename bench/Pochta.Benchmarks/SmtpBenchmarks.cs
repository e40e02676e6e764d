using System.Buffers;
using System.Text;

using BenchmarkDotNet.Attributes;

using Pochta.Smtp.Protocol;

namespace Pochta.Benchmarks;

/// <summary>
/// The SMTP command reader on the commands of a typical transaction, a pipelined
/// MAIL/RCPT/DATA group (RFC 2920), and the DATA decoder (dot-unstuffing, CRLF.CRLF detection,
/// bare CR/LF checks) on 5 KB and 1 MB bodies.
/// </summary>
[MemoryDiagnoser]
public class SmtpBenchmarks
{
    private readonly SmtpCommandReader reader = new();
    private readonly SmtpDataDecoder decoder = new();
    private readonly ArrayBufferWriter<byte> output = new(2 * 1024 * 1024);
    private ReadOnlySequence<byte> ehlo;
    private ReadOnlySequence<byte> mail;
    private ReadOnlySequence<byte> rcpt;
    private ReadOnlySequence<byte> pipelined;
    private ReadOnlySequence<byte> data5K;
    private ReadOnlySequence<byte> data1M;

    [GlobalSetup]
    public void Setup()
    {
        ehlo = Bytes("EHLO mx.example.org\r\n");
        mail = Bytes("MAIL FROM:<alice@example.org> SIZE=5169 BODY=8BITMIME\r\n");
        rcpt = Bytes("RCPT TO:<bob@bench.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob@bench.test\r\n");
        pipelined = Bytes("MAIL FROM:<alice@example.org> SIZE=5169\r\nRCPT TO:<bob@bench.test>\r\nRCPT TO:<carol@bench.test>\r\nDATA\r\n");
        data5K = Bytes(Body(5 * 1024));
        data1M = Bytes(Body(1024 * 1024));
    }

    private static ReadOnlySequence<byte> Bytes(string s) => new(Encoding.ASCII.GetBytes(s));

    /// <summary>A text body with some dot-stuffed lines, ending with the end-of-data marker.</summary>
    private static string Body(int size)
    {
        var sb = new StringBuilder(size + 100);
        sb.Append("From: alice@example.org\r\nTo: bob@bench.test\r\nSubject: benchmark\r\n\r\n");
        int line = 0;
        while (sb.Length < size)
        {
            if (++line % 40 == 0)
            {
                sb.Append("..a line that began with a dot\r\n");
            }

            sb.Append("The quick brown fox jumps over the lazy dog, again and again and again.\r\n");
        }

        return sb.Append(".\r\n").ToString();
    }

    private SmtpCommand? One(ReadOnlySequence<byte> input)
    {
        var sr = new SequenceReader<byte>(input);
        var result = reader.TryRead(ref sr);
        return result.Status == SmtpReadStatus.Command ? result.Command : throw new InvalidOperationException(result.Error.ToString());
    }

    [Benchmark]
    public SmtpCommand? Ehlo() => One(ehlo);

    [Benchmark]
    public SmtpCommand? MailFromWithParameters() => One(mail);

    [Benchmark]
    public SmtpCommand? RcptToWithDsn() => One(rcpt);

    /// <summary>MAIL, 2 × RCPT, DATA arriving in one read.</summary>
    [Benchmark]
    public int PipelinedTransaction()
    {
        var sr = new SequenceReader<byte>(pipelined);
        int n = 0;
        while (!sr.End && reader.TryRead(ref sr).Status == SmtpReadStatus.Command)
        {
            n++;
        }

        return n;
    }

    private long Decode(ReadOnlySequence<byte> input)
    {
        decoder.Reset();
        output.ResetWrittenCount();
        var sr = new SequenceReader<byte>(input);
        if (decoder.Decode(ref sr, output) != SmtpDataStatus.Completed)
        {
            throw new InvalidOperationException("end of data not found");
        }

        return decoder.DecodedLength;
    }

    [Benchmark]
    public long Data5KB() => Decode(data5K);

    [Benchmark]
    public long Data1MB() => Decode(data1M);
}