using Pochta.Imap.Tests.Support;

namespace Pochta.Imap.Tests;

public sealed class FetchTests
{
    internal const string Simple = "From: Bob <bob@example.net>\nTo: alice@example.test\nSubject: Hello there\nDate: Mon, 30 Nov 2026 10:00:00 +0000\nMessage-ID: <1@example.net>\n\nHi Alice.\n";

    internal const string Multipart = "From: \"Bob B.\" <bob@example.net>\nTo: alice@example.test, Carol <carol@example.org>\nSubject: =?UTF-8?B?0J/RgNC40LLQtdGC?=\nDate: Tue, 1 Dec 2026 09:30:00 +0100\nMessage-ID: <2@example.net>\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b1\"\n\npreamble\n--b1\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\nCaf=C3=A9 au lait\n--b1\nContent-Type: application/octet-stream; name=\"x.bin\"\nContent-Transfer-Encoding: base64\nContent-Disposition: attachment; filename=\"x.bin\"\n\nAAECAwQ=\n--b1--\n";

    [Fact]
    public async Task Fetch_flags_uid_size_internaldate_and_macros()
    {
        await using var h = await ImapHarness.CreateAsync();
        await h.DeliverAsync(Simple, date: new DateTimeOffset(2026, 11, 5, 8, 7, 6, TimeSpan.FromHours(-5)));
        var c = await h.LoginAsync("INBOX");
        var size = Simple.ReplaceLineEndings("\r\n").Length;
        Assert.Equal($"* 1 FETCH (FLAGS (\\Recent) UID 1 RFC822.SIZE {size} INTERNALDATE \" 5-Nov-2026 08:07:06 -0500\")", await c.OneAsync("a FETCH 1 (FLAGS UID RFC822.SIZE INTERNALDATE)"));
        var fast = await c.OkAsync("b FETCH 1:* FAST");
        Assert.Equal($"* 1 FETCH (FLAGS (\\Recent) INTERNALDATE \" 5-Nov-2026 08:07:06 -0500\" RFC822.SIZE {size})", fast[0]);
        var all = await c.OkAsync("c FETCH 1 ALL");
        Assert.Contains("ENVELOPE (\"Mon, 30 Nov 2026 10:00:00 +0000\" \"Hello there\" ((\"Bob\" NIL \"bob\" \"example.net\")) ((\"Bob\" NIL \"bob\" \"example.net\")) ((\"Bob\" NIL \"bob\" \"example.net\")) ((NIL NIL \"alice\" \"example.test\")) NIL NIL NIL \"<1@example.net>\")", all[0], StringComparison.Ordinal);
        Assert.Equal("d BAD Invalid message sequence number", (await c.CommandAsync("d FETCH 5 FLAGS"))[^1]);
        Assert.Empty(await c.OkAsync("e UID FETCH 5 FLAGS"));
        Assert.Equal("* 1 FETCH (UID 1 FLAGS (\\Recent))", await c.OneAsync("f UID FETCH 1:* FLAGS"));
    }

    [Fact]
    public async Task Fetch_body_sections_and_partial_and_seen()
    {
        await using var h = await ImapHarness.CreateAsync();
        await h.DeliverAsync(Simple);
        var c = await h.LoginAsync("INBOX");
        var header = Simple.ReplaceLineEndings("\r\n")[..(Simple.ReplaceLineEndings("\r\n").IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)];
        Assert.Equal($"* 1 FETCH (BODY[HEADER] {{{header.Length}}}\r\n{header})", await c.OneAsync("a FETCH 1 BODY.PEEK[HEADER]"));
        Assert.Equal("* 1 FETCH (BODY[TEXT] {11}\r\nHi Alice.\r\n)", await c.OneAsync("b FETCH 1 BODY.PEEK[TEXT]"));
        Assert.Equal("* 1 FETCH (BODY[TEXT]<3> {5}\r\nAlice)", await c.OneAsync("c FETCH 1 BODY.PEEK[TEXT]<3.5>"));
        Assert.Equal("* 1 FETCH (BODY[HEADER.FIELDS (SUBJECT FROM)] {53}\r\nFrom: Bob <bob@example.net>\r\nSubject: Hello there\r\n\r\n)", await c.OneAsync("d FETCH 1 BODY.PEEK[HEADER.FIELDS (Subject From)]"));
        Assert.Equal("* 1 FETCH (BODY[HEADER.FIELDS.NOT (SUBJECT FROM DATE MESSAGE-ID)] {26}\r\nTo: alice@example.test\r\n\r\n)", await c.OneAsync("e FETCH 1 BODY.PEEK[HEADER.FIELDS.NOT (Subject From Date Message-ID)]"));
        Assert.Equal("* 1 FETCH (FLAGS (\\Recent))", await c.OneAsync("f FETCH 1 FLAGS"));

        // Not PEEK: sets \Seen and reports FLAGS.
        Assert.Equal("* 1 FETCH (BODY[1] {11}\r\nHi Alice.\r\n FLAGS (\\Seen \\Recent))", await c.OneAsync("g FETCH 1 BODY[1]"));
        Assert.Equal("* 1 FETCH (FLAGS (\\Seen \\Recent))", await c.OneAsync("h FETCH 1 FLAGS"));
        Assert.Equal($"* 1 FETCH (RFC822.HEADER {{{header.Length}}}\r\n{header})", await c.OneAsync("i FETCH 1 RFC822.HEADER"));
        var full = Simple.ReplaceLineEndings("\r\n");
        Assert.Equal($"* 1 FETCH (BODY[] {{{full.Length}}}\r\n{full})", await c.OneAsync("j FETCH 1 BODY[]"));
        Assert.Equal("* 1 FETCH (BODY[]<10000> {0}\r\n)", await c.OneAsync("k FETCH 1 BODY[]<10000.5>"));
    }

    [Fact]
    public async Task Fetch_bodystructure_binary_and_mime_of_multipart()
    {
        await using var h = await ImapHarness.CreateAsync();
        await h.DeliverAsync(Multipart);
        var c = await h.LoginAsync("INBOX");
        var bs = await c.OkAsync("a FETCH 1 BODYSTRUCTURE");
        Assert.Equal(
            "* 1 FETCH (BODYSTRUCTURE ((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"QUOTED-PRINTABLE\" 17 1 NIL NIL NIL NIL)(\"application\" \"octet-stream\" (\"name\" \"x.bin\") NIL NIL \"BASE64\" 8 NIL (\"attachment\" (\"filename\" \"x.bin\")) NIL NIL) \"mixed\" (\"boundary\" \"b1\") NIL NIL NIL))",
            bs[0]);
        var body = await c.OkAsync("b FETCH 1 BODY");
        Assert.Equal("* 1 FETCH (BODY ((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"QUOTED-PRINTABLE\" 17 1)(\"application\" \"octet-stream\" (\"name\" \"x.bin\") NIL NIL \"BASE64\" 8) \"mixed\"))", body[0]);
        Assert.Equal("* 1 FETCH (BINARY.SIZE[1] 13 BINARY.SIZE[2] 5)", await c.OneAsync("c FETCH 1 (BINARY.SIZE[1] BINARY.SIZE[2])"));
        Assert.Equal("* 1 FETCH (BINARY[1] ~{13}\r\nCafé au lait)", await c.OneAsync("d FETCH 1 BINARY.PEEK[1]"));
        Assert.Equal("* 1 FETCH (BINARY[2]<1> ~{2}\r\n\u0001\u0002)", await c.OneAsync("e FETCH 1 BINARY.PEEK[2]<1.2>"));
        var mime = "Content-Type: application/octet-stream; name=\"x.bin\"\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"x.bin\"\r\n\r\n";
        Assert.Equal("* 1 FETCH (BODY[2.MIME] {" + mime.Length + "}\r\nContent-Type: application/octet-stream; name=\"x.bin\"\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"x.bin\"\r\n\r\n)", await c.OneAsync("f FETCH 1 BODY.PEEK[2.MIME]"));
        var env = await c.OkAsync("g FETCH 1 ENVELOPE");
        Assert.Contains("\"=?UTF-8?B?0J/RgNC40LLQtdGC?=\" ((\"Bob B.\" NIL \"bob\" \"example.net\"))", env[0], StringComparison.Ordinal);
        Assert.Contains("((NIL NIL \"alice\" \"example.test\")(\"Carol\" NIL \"carol\" \"example.org\"))", env[0], StringComparison.Ordinal);
        Assert.Equal("* 1 FETCH (BODY[3] \"\")", await c.OneAsync("h FETCH 1 BODY.PEEK[3]"));
    }

    [Fact]
    public async Task Fetch_modseq_and_changedsince_enable_condstore()
    {
        await using var h = await ImapHarness.CreateAsync();
        await h.DeliverAsync(Simple);
        await h.DeliverAsync(Simple);
        var c = await h.LoginAsync("INBOX");
        var r = await c.OkAsync("a FETCH 1:* (MODSEQ)");
        Assert.Equal(2, r.Count);
        var m1 = ulong.Parse(System.Text.RegularExpressions.Regex.Match(r[1], @"MODSEQ \((\d+)\)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        await c.OkAsync("b STORE 1 +FLAGS.SILENT (\\Flagged)");
        var changed = await c.OkAsync("c UID FETCH 1:* (FLAGS) (CHANGEDSINCE " + m1 + ")");
        Assert.Single(changed);
        Assert.Matches(@"^\* 1 FETCH \(UID 1 FLAGS \(\\Flagged \\Recent\) MODSEQ \(\d+\)\)$", changed[0]);
    }
}