using static Pochta.Mime.Tests.TestUtil;

namespace Pochta.Mime.Tests;

public class EnvelopeTests
{
    [Fact]
    public async Task Envelope_fields_are_raw_with_decoded_forms()
    {
        var (index, _) = await IndexAsync(Corpus.Alternative);
        var e = index.Envelope;
        Assert.Equal("Tue, 01 Apr 2025 10:00:00 +0200", e.Date);
        Assert.Equal(new DateTimeOffset(2025, 4, 1, 10, 0, 0, TimeSpan.FromHours(2)), e.ParsedDate);
        Assert.Equal("Re: [list] Fwd: alt", e.Subject);
        Assert.Equal("((\"Ann Smith\" \"Ann Smith\" NIL \"ann\" \"example.test\"))", Addresses(e.From));
        Assert.Equal("((NIL NIL NIL \"bob\" \"example.test\")(\"Carol, Q.\" \"Carol, Q.\" NIL \"carol\" \"example.test\"))", Addresses(e.To));
        Assert.Equal("dave@example.test", Assert.Single(e.Cc!).Address);
        Assert.Null(e.Bcc);
        Assert.Equal("<parent@example.test>", e.InReplyTo);
        Assert.Equal("<alt-1@example.test>", e.MessageId);

        Assert.Equal("alt-1@example.test", index.Threading.MessageId);
        Assert.Equal(["root@example.test", "parent@example.test"], index.Threading.References);
        Assert.Equal(["parent@example.test"], index.Threading.InReplyTo);
    }

    [Fact]
    public async Task Rfc2047_encoded_words_kept_raw_and_decoded()
    {
        var (index, _) = await IndexAsync(Corpus.EncodedWords);
        var e = index.Envelope;
        Assert.Equal("=?ISO-8859-1?B?SWYgeW91IGNhbiByZWFkIHRoaXMgeW8=?= =?ISO-8859-2?B?dSB1bmRlcnN0YW5kIHRoZSBleGFtcGxlLg==?=", e.Subject);
        Assert.Equal("If you can read this you understand the example.", e.DecodedSubject);
        var from = Assert.Single(e.From!);
        Assert.Equal("=?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?=", from.RawName);
        Assert.Equal("Keld Jørn Simonsen", from.Name);
        Assert.Equal("keld", from.Mailbox);
        Assert.Equal("dkuug.dk", from.Host);
        var cc = Assert.Single(e.Cc!);
        Assert.Equal("=?ISO-8859-1?Q?Andr=E9?= Pirard", cc.RawName);
        Assert.Equal("André Pirard", cc.Name);
        Assert.Equal("Keith Moore", e.To![0].Name);
        Assert.Equal("If you can read this you understand the example.", index.Search.BaseSubject);
        Assert.Contains(index.Search.Headers, h => h.Name == "From" && h.Value.Contains("Keld Jørn Simonsen", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Groups_are_flattened_the_imap_way()
    {
        var (index, _) = await IndexAsync(Corpus.Groups);
        var to = index.Envelope.To!;
        Assert.Equal(5, to.Count);
        Assert.True(to[0].IsGroupStart);
        Assert.Equal("A Group", to[0].Mailbox);
        Assert.Equal("A Group", to[0].DecodedGroupName);
        Assert.Null(to[0].Host);
        Assert.Equal("Ed Jones", to[1].RawName);
        Assert.Equal("c@a.test", to[1].Address);
        Assert.Equal("joe@where.test", to[2].Address);
        Assert.Equal("jdoe@one.test", to[3].Address);
        Assert.True(to[4].IsGroupEnd);
        Assert.Equal(EnvelopeAddress.GroupEnd, to[4]);

        var cc = index.Envelope.Cc!;
        Assert.Equal(2, cc.Count);
        Assert.Equal("undisclosed-recipients", cc[0].Mailbox);
        Assert.True(cc[0].IsGroupStart);
        Assert.True(cc[1].IsGroupEnd);

        var bcc = index.Envelope.Bcc!;
        Assert.Equal("Quoted \"Name\"", bcc[0].RawName);
        Assert.Equal("q@example.test", bcc[0].Address);
        Assert.Null(bcc[1].RawName);
        Assert.Equal("bare@example.test", bcc[1].Address);
    }

    [Theory]
    [InlineData("user@example.test", "((NIL NIL NIL \"user\" \"example.test\"))")]
    [InlineData("<user@example.test>", "((NIL NIL NIL \"user\" \"example.test\"))")]
    [InlineData("John Q. Public <JQB@bar.example>", "((\"John Q. Public\" \"John Q. Public\" NIL \"JQB\" \"bar.example\"))")]
    [InlineData("\"Joe Q. Public\" <john.q.public@example.com>", "((\"Joe Q. Public\" \"Joe Q. Public\" NIL \"john.q.public\" \"example.com\"))")]
    [InlineData("Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>", "((\"Pete\" \"Pete\" NIL \"pete\" \"silly.test\"))")]
    [InlineData("<@route1,@route2:user@example.test>", "((NIL NIL \"@route1,@route2\" \"user\" \"example.test\"))")]
    [InlineData("\"spaced local\"@example.test", "((NIL NIL NIL \"spaced local\" \"example.test\"))")]
    [InlineData("user@[192.0.2.1]", "((NIL NIL NIL \"user\" \"[192.0.2.1]\"))")]
    [InlineData("localonly", "((NIL NIL NIL \"localonly\" \"\"))")]
    [InlineData("", "()")]
    [InlineData("a@b.test,,c@d.test", "((NIL NIL NIL \"a\" \"b.test\")(NIL NIL NIL \"c\" \"d.test\"))")]
    [InlineData("=?utf-8?q?J=C3=B6rg_M.?= <j@x.test>", "((\"=?utf-8?q?J=C3=B6rg_M.?=\" \"Jörg M.\" NIL \"j\" \"x.test\"))")]
    [InlineData("Team: ;", "((NIL NIL NIL \"Team\" NIL g=\"Team\")(NIL NIL NIL NIL NIL))")]
    [InlineData("Team: a@b.test", "((NIL NIL NIL \"Team\" NIL g=\"Team\")(NIL NIL NIL \"a\" \"b.test\")(NIL NIL NIL NIL NIL))")]
    public void Address_parser_cases(string value, string expected)
    {
        var parsed = AddressParser.Parse(value, MimeKit.ParserOptions.Default);
        Assert.Equal(expected, Addresses(parsed));
    }

    [Fact]
    public async Task Missing_headers_are_null_and_sender_reply_to_default_to_from()
    {
        var (index, _) = await IndexAsync(Corpus.MissingHeaders);
        var e = index.Envelope;
        Assert.Null(e.Date);
        Assert.Null(e.ParsedDate);
        Assert.Null(e.From);
        Assert.Null(e.Sender);
        Assert.Null(e.EffectiveSender);
        Assert.Null(e.MessageId);
        Assert.Null(index.Threading.MessageId);
        Assert.Empty(index.Threading.References);
        Assert.Null(index.Search.SentDate);

        var (other, _) = await IndexAsync(Corpus.SenderReplyTo);
        var o = other.Envelope;
        Assert.Equal("sender@example.test", Assert.Single(o.EffectiveSender!).Address);
        Assert.NotNull(o.ReplyTo);
        Assert.Empty(o.ReplyTo);
        // RFC 9051 §7.5.2: present but empty Reply-To is replaced by From.
        Assert.Same(o.From, o.EffectiveReplyTo);
        var imap = o.WithImapDefaults();
        Assert.Same(o.From, imap.ReplyTo);
        Assert.Same(o.Sender, imap.Sender);

        var (simple, _) = await IndexAsync(Corpus.SimpleText);
        Assert.Null(simple.Envelope.Sender);
        Assert.Same(simple.Envelope.From, simple.Envelope.EffectiveSender);
        Assert.Same(simple.Envelope.From, simple.Envelope.EffectiveReplyTo);
    }

    [Fact]
    public async Task Eight_bit_headers_survive()
    {
        var utf8 = "From: Jörg <j@example.test>\r\nSubject: Grüße 日本\r\n\r\nbody\r\n"u8.ToArray();
        var index = await IndexAsync(utf8);
        Assert.Equal("Grüße 日本", index.Envelope.Subject);
        Assert.Equal("Grüße 日本", index.Envelope.DecodedSubject);
        Assert.Equal("Jörg", index.Envelope.From![0].RawName);
        Assert.Equal("Jörg", index.Envelope.From![0].Name);

        // Latin-1 octets that are not valid UTF-8 are kept one char per octet.
        var latin1 = System.Text.Encoding.Latin1.GetBytes("From: j@example.test\r\nSubject: caf\xe9\r\n\r\nbody\r\n");
        var index2 = await IndexAsync(latin1);
        Assert.Equal("caf\xe9", index2.Envelope.Subject);
    }

    [Fact]
    public async Task Folded_headers_are_unfolded()
    {
        var (index, _) = await IndexAsync("Subject: a very\n long\n\tsubject\nFrom: A\n <a@example.test>\n\nx\n");
        Assert.Equal("a very long\tsubject", index.Envelope.Subject);
        Assert.Equal("a very long subject", index.Envelope.DecodedSubject);
        Assert.Equal("a@example.test", index.Envelope.From![0].Address);
        Assert.Equal("A", index.Envelope.From![0].Name);
    }
}