using System.Text;

namespace Pochta.Mime.Tests;

/// <summary>Sample messages. Written with LF in source and converted to CRLF unless a test
/// needs other line endings.</summary>
internal static class Corpus
{
    public static string Crlf(string text) => text.ReplaceLineEndings("\r\n");

    public const string SimpleText = """
        Return-Path: <alice@example.test>
        Date: Mon, 7 Feb 1994 21:52:25 -0800 (PST)
        From: Fred Foobar <foobar@Blurdybloop.example>
        Subject: afternoon meeting
        To: mooch@owatagu.siam.edu.example
        Message-Id: <B27397-0100000@Blurdybloop.example>
        MIME-Version: 1.0
        Content-Type: TEXT/PLAIN; CHARSET=US-ASCII

        Hello Joe, do you think we can meet at 3:30 tomorrow?

        """;

    public const string NoContentType = """
        From: a@example.test
        Subject: plain

        line one
        line two
        """;

    public const string Alternative = """
        From: "Ann Smith" <ann@example.test>
        To: bob@example.test, "Carol, Q." <carol@example.test>
        Cc: dave@example.test
        Subject: Re: [list] Fwd: alt
        Date: Tue, 01 Apr 2025 10:00:00 +0200
        Message-ID: <alt-1@example.test>
        In-Reply-To: <parent@example.test>
        References: <root@example.test>
         <parent@example.test>
        MIME-Version: 1.0
        Content-Type: multipart/alternative; boundary="b1"

        This is the preamble.
        --b1
        Content-Type: text/plain; charset=utf-8
        Content-Transfer-Encoding: quoted-printable

        Caf=C3=A9 au lait
        is nice.
        --b1
        Content-Type: text/html; charset=utf-8

        <html><head><style>p {}</style></head><body><p>Caf&eacute; <b>HTML</b></p></body></html>
        --b1--
        epilogue
        """;

    public const string MixedWithAttachment = """
        From: sender@example.test
        To: rcpt@example.test
        Subject: report
        MIME-Version: 1.0
        Content-Type: multipart/mixed; boundary="==outer=="

        --==outer==
        Content-Type: text/plain

        See attached.
        --==outer==
        Content-Type: application/octet-stream; name="data.bin"
        Content-Disposition: attachment; filename="data.bin"; size=11
        Content-Transfer-Encoding: base64
        Content-ID: <part2@example.test>
        Content-Description: some data
        Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==
        Content-Language: en, de (German)
        Content-Location: http://example.test/data.bin

        SGVsbG8gV29y
        bGQh
        --==outer==--

        """;

    public const string Nested = """
        From: outer@example.test
        Subject: fwd
        MIME-Version: 1.0
        Content-Type: multipart/mixed; boundary=OUT

        --OUT
        Content-Type: text/plain

        Forwarding.
        --OUT
        Content-Type: message/rfc822
        Content-Description: forwarded

        From: Inner Person <inner@example.test>
        Subject: inner subject
        Date: Wed, 2 Apr 2025 08:00:00 +0000
        MIME-Version: 1.0
        Content-Type: multipart/alternative; boundary=IN

        --IN
        Content-Type: text/plain

        inner text
        --IN
        Content-Type: text/html

        <p>inner html</p>
        --IN--

        --OUT--

        """;

    public const string EncodedWords = """
        From: =?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?= <keld@dkuug.dk>
        To: =?US-ASCII?Q?Keith_Moore?= <moore@cs.utk.edu>
        Cc: =?ISO-8859-1?Q?Andr=E9?= Pirard <PIRARD@vm1.ulg.ac.be>
        Subject: =?ISO-8859-1?B?SWYgeW91IGNhbiByZWFkIHRoaXMgeW8=?=
         =?ISO-8859-2?B?dSB1bmRlcnN0YW5kIHRoZSBleGFtcGxlLg==?=

        body
        """;

    public const string Rfc2231 = """
        From: a@example.test
        Subject: params
        MIME-Version: 1.0
        Content-Type: multipart/mixed; boundary=X

        --X
        Content-Type: application/x-stuff;
         title*0*=us-ascii'en'This%20is%20even%20more%20;
         title*1*=%2A%2A%2Afun%2A%2A%2A%20;
         title*2="isn't it!"
        Content-Disposition: attachment; filename*=UTF-8''%E2%82%AC%20rates.txt

        stuff
        --X--
        """;

    public const string Groups = """
        From: Boss <boss@example.test>
        To: A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;
        Cc: undisclosed-recipients:;
        Bcc: "Quoted \"Name\"" <q@example.test> (comment), bare@example.test
        Subject: groups

        x
        """;

    public const string MissingHeaders = """
        Subject: no addresses

        body
        """;

    public const string SenderReplyTo = """
        From: from@example.test
        Sender: sender@example.test
        Reply-To:
        Subject: defaults

        body
        """;

    public const string MalformedNoCloseBoundary = """
        From: a@example.test
        Subject: broken
        Content-Type: multipart/mixed; boundary=NEVER

        --NEVER
        Content-Type: text/plain

        unterminated part
        """;

    public const string MalformedBoundaryMissing = """
        From: a@example.test
        Content-Type: multipart/mixed; boundary=ABSENT

        no boundary anywhere
        """;

    public const string MalformedContentType = """
        From: a@example.test
        Content-Type: ;;;garbage/ ==
        Content-Transfer-Encoding: x-unknown

        body
        """;

    public static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    public static string Ascii(byte[] data, ByteRange range) => Encoding.UTF8.GetString(data, (int)range.Offset, (int)range.Length);

    /// <summary>Every sample, CRLF-normalized, for table-driven tests.</summary>
    public static TheoryData<string> All()
    {
        var data = new TheoryData<string>();
        foreach (var name in new[] { nameof(SimpleText), nameof(NoContentType), nameof(Alternative), nameof(MixedWithAttachment), nameof(Nested), nameof(EncodedWords), nameof(Rfc2231), nameof(Groups), nameof(MissingHeaders), nameof(SenderReplyTo), nameof(MalformedNoCloseBoundary), nameof(MalformedBoundaryMissing), nameof(MalformedContentType) })
        {
            data.Add(name);
        }

        return data;
    }

    public static string Get(string name) =>
        (string)typeof(Corpus).GetField(name)!.GetValue(null)!;
}