using System.Buffers;
using System.Text;

using BenchmarkDotNet.Attributes;

using Pochta.Pop3.Protocol;

namespace Pochta.Benchmarks;

/// <summary>
/// The POP3 command reader (single commands and a pipelined RETR/DELE batch, RFC 2449
/// PIPELINING) and the multi-line encoder that byte-stuffs a stored message into a RETR
/// response, on 5 KB and 1 MB messages.
/// </summary>
[MemoryDiagnoser]
public class Pop3Benchmarks
{
    private readonly Pop3CommandReader reader = new(new Pop3ReaderLimits());
    private readonly ArrayBufferWriter<byte> output = new(2 * 1024 * 1024);
    private ReadOnlySequence<byte> user;
    private ReadOnlySequence<byte> retr;
    private ReadOnlySequence<byte> pipelined;
    private byte[] message5K = [];
    private byte[] message1M = [];

    [GlobalSetup]
    public void Setup()
    {
        user = Bytes("USER alice@bench.test\r\n");
        retr = Bytes("RETR 4711\r\n");
        var sb = new StringBuilder();
        for (int i = 1; i <= 50; i++)
        {
            sb.Append("RETR ").Append(i).Append("\r\nDELE ").Append(i).Append("\r\n");
        }

        pipelined = Bytes(sb.ToString());
        message5K = Encoding.ASCII.GetBytes(Message(5 * 1024));
        message1M = Encoding.ASCII.GetBytes(Message(1024 * 1024));
    }

    private static ReadOnlySequence<byte> Bytes(string s) => new(Encoding.ASCII.GetBytes(s));

    private static string Message(int size)
    {
        var sb = new StringBuilder(size + 100);
        sb.Append("From: alice@example.org\r\nTo: bob@bench.test\r\nSubject: benchmark\r\n\r\n");
        int line = 0;
        while (sb.Length < size)
        {
            if (++line % 40 == 0)
            {
                sb.Append(".a line that begins with a dot\r\n");
            }

            sb.Append("The quick brown fox jumps over the lazy dog, again and again and again.\r\n");
        }

        return sb.ToString();
    }

    private Pop3Command? One(ReadOnlySequence<byte> input)
    {
        var sr = new SequenceReader<byte>(input);
        var result = reader.TryReadCommand(ref sr);
        return result.Status == Pop3ReadStatus.Command ? result.Command : throw new InvalidOperationException(result.Error.ToString());
    }

    [Benchmark]
    public Pop3Command? User() => One(user);

    [Benchmark]
    public Pop3Command? Retr() => One(retr);

    /// <summary>50 × (RETR n, DELE n) in one read, per command.</summary>
    [Benchmark(OperationsPerInvoke = 100)]
    public int Pipelined100()
    {
        var sr = new SequenceReader<byte>(pipelined);
        int n = 0;
        while (!sr.End && reader.TryReadCommand(ref sr).Status == Pop3ReadStatus.Command)
        {
            n++;
        }

        return n;
    }

    private int Encode(byte[] message)
    {
        output.ResetWrittenCount();
        var encoder = new Pop3MultilineEncoder();
        // The store hands the message over in 16 KB chunks.
        for (int at = 0; at < message.Length; at += 16 * 1024)
        {
            encoder.Write(message.AsSpan(at, Math.Min(16 * 1024, message.Length - at)), output);
        }

        encoder.Complete(output);
        return output.WrittenCount;
    }

    [Benchmark]
    public int RetrEncode5KB() => Encode(message5K);

    [Benchmark]
    public int RetrEncode1MB() => Encode(message1M);
}