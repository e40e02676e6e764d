using System.Text;

using Pochta.Core;
using Pochta.Imap.Protocol;

namespace Pochta.Imap.Tests;

public class ReaderTests
{
    /// <summary>Valid inputs and a fragment each run must contain.</summary>
    public static TheoryData<string, string> ValidInputs => new()
    {
        { "a1 CAPABILITY\r\n", "CapabilityCommand{Name=\"CAPABILITY\";Tag=\"a1\";}" },
        { "a1 noop\r\n", "NoopCommand" },
        { "x LOGIN alice \"se\\\"cr\\\\et\"\r\n", "LoginCommand{Name=\"LOGIN\";Password=\"se\"cr\\et\";Tag=\"x\";UserName=\"alice\";}" },
        { "x LOGIN {5}\r\nalice {6}\r\nsecret\r\n", "Password=\"secret\";Tag=\"x\";UserName=\"alice\"" },
        { "x LOGIN {5+}\r\nalice {6+}\r\nsecret\r\n", "Password=\"secret\";Tag=\"x\";UserName=\"alice\"" },
        { "a AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==\r\n", "InitialResponse=\"AGFsaWNlAHNlY3JldA==\";Mechanism=\"PLAIN\"" },
        { "a AUTHENTICATE PLAIN =\r\n", "InitialResponse=\"=\"" },
        { "a ENABLE CONDSTORE utf8=accept\r\n", "Capabilities=[\"CONDSTORE\",\"UTF8=ACCEPT\"]" },
        { "a ID (\"name\" \"mutt\" \"version\" NIL)\r\n", "Key=\"version\";Value=null;" },
        { "a ID NIL\r\n", "Fields=null" },
        { "a SELECT inbox\r\n", "Mailbox=\"INBOX\";Name=\"SELECT\";QResync=null;ReadOnly=false" },
        { "a EXAMINE \"Sent\" (CONDSTORE)\r\n", "CondStore=true;Mailbox=\"Sent\";Name=\"EXAMINE\"" },
        { "a SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541))\r\n", "KnownUids=set(41,43:211,214:541);ModSeq=20050715194045000;UidValidity=67890007" },
        { "a CREATE &ZeVnLIqe-/x\r\n", "Mailbox=\"日本語/x\"" },
        { "a CREATE Archive2 (USE (\\Archive))\r\n", "SpecialUse=[\"\\Archive\"]" },
        { "a RENAME a b\r\n", "Mailbox=\"a\";Name=\"RENAME\";NewName=\"b\"" },
        { "a LIST \"\" *\r\n", "Patterns=[\"*\"];Reference=\"\"" },
        { "a LIST (SUBSCRIBED) \"\" (\"INBOX\" Sent%) RETURN (CHILDREN STATUS (MESSAGES UNSEEN))\r\n", "Patterns=[\"INBOX\",\"Sent%\"];Reference=\"\";ReturnOptions=[\"CHILDREN\",\"STATUS\"];SelectionOptions=[\"SUBSCRIBED\"];StatusItems=[\"MESSAGES\",\"UNSEEN\"]" },
        { "a LSUB \"\" %\r\n", "Lsub=true" },
        { "a STATUS blurdybloop (UIDNEXT MESSAGES)\r\n", "Items=[\"UIDNEXT\",\"MESSAGES\"];Mailbox=\"blurdybloop\"" },
        { "a SEARCH FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"\r\n", "AndKey{Keys=[FlagKey{Flag=Flagged;IsSet=true;},DateKey{Date=02/01/1994;Kind=Since;},NotKey{Key=HeaderKey{Field=\"From\";Value=\"Smith\";};}];}" },
        { "a UID SEARCH RETURN (MIN COUNT) CHARSET UTF-8 OR (SEEN 1:*) UID $\r\n", "Charset=\"UTF-8\";Criteria=OrKey{Left=AndKey{Keys=[FlagKey{Flag=Seen;IsSet=true;},SequenceSetKey{IsUid=false;Set=set(1:*);}];};Right=SequenceSetKey{IsUid=true;Set=set($);};}" },
        { "a SEARCH HEADER X-Foo {3}\r\nbar LARGER 100 MODSEQ \"/flags/\\\\draft\" all 620162338\r\n", "ModSeqKey{ModSeq=620162338;}" },
        { "a SEARCH KEYWORD $Junk UNKEYWORD foo NEW OLD RECENT BODY x TEXT y SMALLER 5 SENTON 2-Jan-2020 SENTBEFORE \"3-Mar-2021\" ON 1-Jan-2000 BEFORE 1-Jan-2001 SENTSINCE 1-Jan-1999 CC a BCC b TO c SUBJECT d ANSWERED UNANSWERED DELETED UNDELETED DRAFT UNDRAFT UNFLAGGED UNSEEN ALL\r\n", "KeywordKey{IsSet=true;Keyword=\"$Junk\";}" },
        { "a FETCH 1:* ALL\r\n", "Items=[SimpleFetchItem{Kind=Flags;},SimpleFetchItem{Kind=InternalDate;},SimpleFetchItem{Kind=Rfc822Size;},SimpleFetchItem{Kind=Envelope;}]" },
        { "a FETCH 2,4:5 (FLAGS BODY[HEADER.FIELDS (DATE FROM)] BODY.PEEK[1.2.MIME]<0.100> BINARY.PEEK[1]<5.10> BINARY.SIZE[2] UID MODSEQ)\r\n", "BodySectionItem{Partial=null;Peek=false;Section=Section{Fields=[\"DATE\",\"FROM\"];Path=[];Specifier=HeaderFields;};}" },
        { "a UID FETCH 1:* (FLAGS) (CHANGEDSINCE 12345 VANISHED)\r\n", "ChangedSince=12345" },
        { "a FETCH 1 (BODY RFC822 RFC822.HEADER RFC822.TEXT RFC822.SIZE BODYSTRUCTURE ENVELOPE INTERNALDATE BODY[] BODY[TEXT] BODY[3.HEADER.FIELDS.NOT (X)])\r\n", "Specifier=HeaderFieldsNot" },
        { "a STORE 2:4 +FLAGS.SILENT (\\Deleted $Label)\r\n", "Flags=Deleted;Keywords=[\"$Label\"];Name=\"STORE\";Operation=Add;Set=set(2:4);Silent=true" },
        { "a UID STORE 1 (UNCHANGEDSINCE 7) -FLAGS \\Seen \\Flagged\r\n", "Flags=Seen, Flagged;Keywords=[];Name=\"UID STORE\";Operation=Remove;Set=set(1);Silent=false;Tag=\"a\";Uid=true;UnchangedSince=7" },
        { "a UID MOVE 1:3 Trash\r\n", "Mailbox=\"Trash\";Move=true;Name=\"UID MOVE\"" },
        { "a COPY 2 \"My Folder\"\r\n", "Mailbox=\"My Folder\";Move=false" },
        { "a UID EXPUNGE 3000:3002\r\n", "Uids=set(3000:3002)" },
        { "a DELETE foo\r\n", "DeleteCommand{Mailbox=\"foo\"" },
        { "a UNSUBSCRIBE foo\r\n", "Mailbox=\"foo\";Name=\"UNSUBSCRIBE\"" },
        { "a IDLE\r\na2 NOOP\r\n", "NoopCommand{Name=\"NOOP\";Tag=\"a2\";}" },
        { "A003 APPEND saved-messages (\\Seen) \" 7-Feb-1994 21:52:25 -0800\" {5}\r\nhello\r\n", "APPEND:AppendMessage{Binary=false;Flags=Seen;InternalDate=02/07/1994 21:52:25 -08:00;IsFirst=true;Keywords=[];Mailbox=\"saved-messages\";Size=5;Synchronizing=true;Tag=\"A003\";}" },
        { "A004 APPEND {5}\r\nINBOX {3+}\r\nabc (\\Draft) {2+}\r\nde\r\n", "APPEND:AppendMessage{Binary=false;Flags=Draft;InternalDate=null;IsFirst=false;Keywords=[];Mailbox=\"INBOX\";Size=2;Synchronizing=false;Tag=\"A004\";}" },
        { "A005 APPEND INBOX ~{3}\r\nx\0y\r\n", "Binary=true" },
        { "a SORT (REVERSE ARRIVAL SUBJECT) UTF-8 SINCE 1-Feb-1994\r\n", "Criteria=[SortCriterion{Key=Arrival;Reverse=true;},SortCriterion{Key=Subject;Reverse=false;}]" },
        { "a UID SORT (DISPLAYFROM) US-ASCII ALL\r\n", "Name=\"UID SORT\"" },
        { "a THREAD REFERENCES UTF-8 (SEEN UNDELETED)\r\n", "Algorithm=\"REFERENCES\";Charset=\"UTF-8\"" },
        { "a UID THREAD orderedsubject utf-8 ALL\r\n", "Algorithm=\"ORDEREDSUBJECT\"" },
        { "a COMPRESS deflate\r\n", "CompressCommand{Mechanism=\"DEFLATE\"" },
    };

    [Theory]
    [MemberData(nameof(ValidInputs))]
    public void Parses_valid_input(string input, string expected)
    {
        var events = ReaderHarness.RunWhole(input);
        var all = string.Join("\n", events);
        Assert.Contains(expected, all, StringComparison.Ordinal);
        Assert.DoesNotContain("SyntaxError", all, StringComparison.Ordinal);
        Assert.DoesNotContain("Fatal", all, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(ValidInputs))]
    public void Same_result_split_at_every_byte(string input, string expected)
    {
        _ = expected;
        var bytes = Encoding.UTF8.GetBytes(input);
        var whole = ReaderHarness.Run([bytes]);
        for (var k = 1; k < bytes.Length; k++)
        {
            var split = ReaderHarness.Run([bytes[..k], bytes[k..]]);
            Assert.Equal(whole, split);
        }

        Assert.Equal(whole, ReaderHarness.Run(bytes.Select(b => new[] { b })));
        Assert.Equal(whole, ReaderHarness.Run([bytes], multiSegment: true));
    }

    [Fact]
    public void Synchronizing_literal_asks_for_continuation_once()
    {
        var events = ReaderHarness.RunWhole("x LOGIN {5}\r\nalice {6+}\r\nsecret\r\n", authenticated: false);
        Assert.Equal("CONT:5", events[0]);
        Assert.StartsWith("REQ:LoginCommand", events[1], StringComparison.Ordinal);
        Assert.Equal(2, events.Count);
    }

    [Theory]
    [InlineData("a FOO\r\n")]
    [InlineData("a LOGIN\r\n")]
    [InlineData("a SELECT\r\n")]
    [InlineData("a FETCH 0 FLAGS\r\n")]
    [InlineData("a FETCH 1 (FLAGS\r\n")]
    [InlineData("a FETCH 1 BODY[4.MIMEX]\r\n")]
    [InlineData("a SEARCH FROM\r\n")]
    [InlineData("a SEARCH BEFORE 32-Jan-2020\r\n")]
    [InlineData("a STORE 1 FLAGS (\\Bogus)\r\n")]
    [InlineData("a LOGIN \"unterminated\r\n")]
    [InlineData("a SELECT INBOX extra\r\n")]
    [InlineData("a CREATE \"bad\\q\"\r\n")]
    [InlineData("a SORT () UTF-8 ALL\r\n")]
    [InlineData("a SORT (REVERSE) UTF-8 ALL\r\n")]
    [InlineData("a SORT (ARRIVAL) UTF-8\r\n")]
    [InlineData("a THREAD REFERENCES\r\n")]
    public void Malformed_commands_are_syntax_errors_with_tag(string input)
    {
        var events = ReaderHarness.RunWhole(input + "b NOOP\r\n");
        Assert.Equal("SyntaxError:a:Syntax", events[0]);
        Assert.StartsWith("REQ:NoopCommand", events[1], StringComparison.Ordinal);
    }

    [Fact]
    public void Huge_synchronizing_literal_is_refused_before_continuation()
    {
        var events = ReaderHarness.RunWhole("a LOGIN {1000000000}\r\nb NOOP\r\n", authenticated: false);
        Assert.Equal("LiteralTooLarge:a:LiteralTooLarge", events[0]);
        Assert.StartsWith("REQ:NoopCommand", events[1], StringComparison.Ordinal);
    }

    [Fact]
    public void Huge_append_literal_is_refused_before_continuation()
    {
        var events = ReaderHarness.RunWhole("a APPEND INBOX {1000000000}\r\nb NOOP\r\n");
        Assert.Equal("LiteralTooLarge:a:LiteralTooLarge", events[0]);
        Assert.StartsWith("REQ:NoopCommand", events[1], StringComparison.Ordinal);
    }

    [Fact]
    public void Append_before_authentication_is_refused_before_continuation()
    {
        var events = ReaderHarness.RunWhole("a APPEND INBOX {10}\r\n", authenticated: false);
        Assert.Equal("LiteralTooLarge:a:LiteralTooLarge", events[0]);
    }

    [Fact]
    public void Non_synchronizing_literal_over_4096_is_fatal()
    {
        // RFC 7888 §4 LITERAL-.
        var events = ReaderHarness.RunWhole("a APPEND INBOX {4097+}\r\n");
        Assert.Equal("Fatal:a:NonSynchronizingLiteralTooLarge", events[0]);
    }

    [Fact]
    public void Blank_lines_are_skipped_and_the_command_behind_them_in_the_same_read_is_parsed()
    {
        // Found by ReaderFuzzTests: a blank line used to end the read as "need more data" with the
        // next command still unread, so the session waited for bytes the client had already sent.
        var events = ReaderHarness.RunWhole("\r\n\na1 NOOP\r\n\r\na2 NOOP\r\n");
        Assert.Equal(2, events.Count);
        Assert.All(events, e => Assert.StartsWith("REQ:NoopCommand", e, StringComparison.Ordinal));
    }

    [Fact]
    public void Over_long_line_is_fatal_and_stricter_before_auth()
    {
        var line = "a NOOP " + new string('x', 5000) + "\r\n";
        Assert.Equal("Fatal::LineTooLong", ReaderHarness.RunWhole(line, authenticated: false)[0]);
        Assert.Equal("SyntaxError:a:Syntax", ReaderHarness.RunWhole(line, authenticated: true)[0]);
    }

    [Fact]
    public void Memory_does_not_follow_announced_size()
    {
        // A line without LF keeps growing only with received bytes and is cut at the limit.
        var limits = new ImapReaderLimits { MaxLineLengthBeforeAuth = 100 };
        var events = ReaderHarness.Run([Encoding.ASCII.GetBytes("a LOGIN " + new string('y', 200))], authenticated: false, limits: limits);
        Assert.Equal("Fatal::LineTooLong", events[0]);
    }

    [Fact]
    public void Inline_literal_limit_is_stricter_before_auth()
    {
        Assert.Equal("LiteralTooLarge:a:LiteralTooLarge", ReaderHarness.RunWhole("a LOGIN {2000}\r\n", authenticated: false)[0]);
        Assert.Equal("CONT:2000", ReaderHarness.RunWhole("a LOGIN {2000}\r\n", authenticated: true)[0]);
    }

    [Fact]
    public void Reads_raw_lines_for_authenticate_and_idle()
    {
        var reader = new ImapCommandReader(ReaderHarness.Limits);
        var first = new System.Buffers.SequenceReader<byte>(new System.Buffers.ReadOnlySequence<byte>("DO"u8.ToArray()));
        Assert.Equal(ReadStatus.NeedMoreData, reader.TryReadLine(ref first, out _));
        var second = new System.Buffers.SequenceReader<byte>(new System.Buffers.ReadOnlySequence<byte>("NE\r\nx"u8.ToArray()));
        Assert.Equal(ReadStatus.Request, reader.TryReadLine(ref second, out var line));
        Assert.Equal("DONE"u8.ToArray(), line);
        Assert.Equal(1, second.Remaining);
    }

    [Fact]
    public void Append_fields_are_typed()
    {
        var events = ReaderHarness.RunWhole("t APPEND Drafts (\\Draft $Todo) \"07-Feb-1994 21:52:25 +0100\" {3}\r\nabc\r\n");
        Assert.Equal(3, events.Count);
        Assert.Equal("LITERAL:abc", events[1]);
        Assert.Equal("REQ:AppendCompleteCommand{Name=\"APPEND\";Tag=\"t\";}", events[2]);
        Assert.Contains("Flags=Draft;", events[0], StringComparison.Ordinal);
        Assert.Contains("Keywords=[\"$Todo\"]", events[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Utf8_mailbox_names_when_enabled()
    {
        var reader = new ImapCommandReader(ReaderHarness.Limits) { Authenticated = true, Utf8Mailboxes = true };
        var sr = new System.Buffers.SequenceReader<byte>(new System.Buffers.ReadOnlySequence<byte>(Encoding.UTF8.GetBytes("a SELECT \"Entwürfe\"\r\n")));
        var result = reader.TryRead(ref sr);
        Assert.Equal("Entwürfe", Assert.IsType<SelectCommand>(result.Command).Mailbox);
    }

    [Fact]
    public void Store_flags_map_to_system_flags()
    {
        var cmd = (StoreCommand)CommandParser.Parse("a STORE 1 FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft)"u8, false);
        Assert.Equal(MessageFlags.Seen | MessageFlags.Answered | MessageFlags.Flagged | MessageFlags.Deleted | MessageFlags.Draft, cmd.Flags);
    }
}