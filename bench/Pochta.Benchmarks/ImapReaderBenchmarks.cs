using System.Buffers;
using System.Text;

using BenchmarkDotNet.Attributes;

using Pochta.Imap.Protocol;

namespace Pochta.Benchmarks;

/// <summary>
/// The IMAP command reader (bytes → typed command) on the lines real clients send most:
/// Thunderbird/Apple Mail style UID FETCH of header fields, a partial body-section FETCH,
/// a compound SEARCH, STORE, the APPEND command line, and 100 pipelined commands in one read.
/// </summary>
[MemoryDiagnoser]
public class ImapReaderBenchmarks
{
    private readonly ImapCommandReader reader = new(new ImapReaderLimits()) { Authenticated = true };
    private ReadOnlySequence<byte> uidFetch;
    private ReadOnlySequence<byte> fetchSection;
    private ReadOnlySequence<byte> search;
    private ReadOnlySequence<byte> store;
    private ReadOnlySequence<byte> appendLine;
    private ReadOnlySequence<byte> appendEnd;
    private ReadOnlySequence<byte> pipelined;

    [GlobalSetup]
    public void Setup()
    {
        uidFetch = Bytes("a1 UID FETCH 1:4000 (UID FLAGS RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER.FIELDS (From To Cc Subject Date Message-ID References Content-Type)])\r\n");
        fetchSection = Bytes("a2 UID FETCH 4711 (BODY.PEEK[1.2]<0.16384> BODYSTRUCTURE)\r\n");
        search = Bytes("a3 UID SEARCH CHARSET UTF-8 OR FROM \"alice@example.org\" SUBJECT \"quarterly report\" SINCE 1-Jan-2025 NOT DELETED UNSEEN\r\n");
        store = Bytes("a4 UID STORE 1:200,305,400:* +FLAGS.SILENT (\\Seen $Forwarded)\r\n");
        appendLine = Bytes("a5 APPEND \"Sent Items\" (\\Seen) \"01-Dec-2026 18:03:53 +0000\" {5120}\r\n");
        appendEnd = Bytes("\r\n");
        var sb = new StringBuilder();
        for (int i = 0; i < 100; i++)
        {
            sb.Append('b').Append(i).Append(i % 2 == 0 ? " UID FETCH 4711 (FLAGS)\r\n" : " UID STORE 4711 +FLAGS.SILENT (\\Seen)\r\n");
        }

        pipelined = Bytes(sb.ToString());
    }

    private static ReadOnlySequence<byte> Bytes(string s) => new(Encoding.ASCII.GetBytes(s));

    private ImapCommand? One(ReadOnlySequence<byte> input)
    {
        var sr = new SequenceReader<byte>(input);
        var result = reader.TryRead(ref sr);
        return result.Status == ReadStatus.Request ? result.Command : throw new InvalidOperationException(result.Status + " " + result.Error);
    }

    [Benchmark]
    public ImapCommand? UidFetchHeaderFields() => One(uidFetch);

    [Benchmark]
    public ImapCommand? FetchPartialSection() => One(fetchSection);

    [Benchmark]
    public ImapCommand? SearchCompound() => One(search);

    [Benchmark]
    public ImapCommand? StoreFlags() => One(store);

    /// <summary>The APPEND command line up to its literal, then the CRLF after the (streamed) literal.</summary>
    [Benchmark]
    public AppendMessage? AppendCommandLine()
    {
        var sr = new SequenceReader<byte>(appendLine);
        var result = reader.TryRead(ref sr);
        if (result.Status != ReadStatus.AppendLiteral)
        {
            throw new InvalidOperationException(result.Status + " " + result.Error);
        }

        reader.LiteralConsumed();
        var end = new SequenceReader<byte>(appendEnd);
        reader.TryRead(ref end);
        return result.Append;
    }

    /// <summary>100 small pipelined commands arriving in one read.</summary>
    [Benchmark(OperationsPerInvoke = 100)]
    public int Pipelined100()
    {
        var sr = new SequenceReader<byte>(pipelined);
        int n = 0;
        while (sr.Remaining > 0 && reader.TryRead(ref sr).Status == ReadStatus.Request)
        {
            n++;
        }

        return n;
    }
}