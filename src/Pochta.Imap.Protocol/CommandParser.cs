using System.Globalization;
using System.Text;

using Pochta.Core;

namespace Pochta.Imap.Protocol;

/// <summary>Thrown inside the parser for malformed input; the reader turns it into a BAD.</summary>
public sealed class ImapParseException(string message) : Exception(message);

/// <summary>
/// Parses one complete, assembled command (lines with their literals inline, exactly as on the
/// wire, without the final CRLF) into a typed <see cref="ImapCommand"/> (RFC 9051 §9 grammar).
/// </summary>
public static class CommandParser
{
    private static readonly string[] MonthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

    public static ImapCommand Parse(ReadOnlySpan<byte> command, bool utf8Mailboxes)
    {
        var c = new Cursor(command, utf8Mailboxes);
        var tag = c.ReadTag();
        c.Space();
        var name = c.ReadAtomUpper();
        ImapCommand result = name switch
        {
            "CAPABILITY" => new CapabilityCommand(tag),
            "NOOP" => new NoopCommand(tag),
            "LOGOUT" => new LogoutCommand(tag),
            "STARTTLS" => new StartTlsCommand(tag),
            "CHECK" => new CheckCommand(tag),
            "CLOSE" => new CloseCommand(tag),
            "UNSELECT" => new UnselectCommand(tag),
            "IDLE" => new IdleCommand(tag),
            "NAMESPACE" => new NamespaceCommand(tag),
            "UNAUTHENTICATE" => new UnauthenticateCommand(tag),
            "EXPUNGE" => new ExpungeCommand(tag, null),
            "LOGIN" => ParseLogin(ref c, tag),
            "AUTHENTICATE" => ParseAuthenticate(ref c, tag),
            "ENABLE" => ParseEnable(ref c, tag),
            "ID" => ParseId(ref c, tag),
            "SELECT" => ParseSelect(ref c, tag, false),
            "EXAMINE" => ParseSelect(ref c, tag, true),
            "CREATE" => ParseCreate(ref c, tag),
            "DELETE" => new DeleteCommand(tag, SpaceMailbox(ref c)),
            "RENAME" => ParseRename(ref c, tag),
            "SUBSCRIBE" => new SubscribeCommand(tag, SpaceMailbox(ref c), true),
            "UNSUBSCRIBE" => new SubscribeCommand(tag, SpaceMailbox(ref c), false),
            "LIST" => ParseList(ref c, tag, false),
            "LSUB" => ParseList(ref c, tag, true),
            "STATUS" => ParseStatus(ref c, tag),
            "SEARCH" => ParseSearch(ref c, tag, false),
            "FETCH" => ParseFetch(ref c, tag, false),
            "STORE" => ParseStore(ref c, tag, false),
            "COPY" => ParseCopy(ref c, tag, false, false),
            "MOVE" => ParseCopy(ref c, tag, false, true),
            "UID" => ParseUid(ref c, tag),
            "SORT" => ParseSort(ref c, tag, false),
            "THREAD" => ParseThread(ref c, tag, false),
            "COMPRESS" => ParseCompress(ref c, tag),
            "GETQUOTA" => ParseGetQuota(ref c, tag),
            "GETQUOTAROOT" => new GetQuotaRootCommand(tag, SpaceMailbox(ref c)),
            "SETQUOTA" => ParseSetQuota(ref c, tag),
            _ => throw new ImapParseException("Unknown command"),
        };

        if (!c.AtEnd)
        {
            throw new ImapParseException("Unexpected characters after command");
        }

        return result;
    }

    /// <summary>The tag at the start of <paramref name="command"/>, or null when it has none.</summary>
    public static string? TryReadTag(ReadOnlySpan<byte> command)
    {
        var n = 0;
        while (n < command.Length && IsTagChar(command[n]))
        {
            n++;
        }

        return n > 0 && n < command.Length && command[n] == (byte)' ' ? Encoding.ASCII.GetString(command[..n]) : null;
    }

    /// <summary>True when the literal whose marker starts at the end of <paramref name="prefix"/>
    /// is the message of an APPEND (not its mailbox name). <paramref name="prefixEnd"/> = length of prefix.</summary>
    internal static bool IsAppendMessageLiteral(ReadOnlySpan<byte> prefix, out int prefixEnd)
    {
        prefixEnd = prefix.Length;
        var tag = TryReadTag(prefix);
        if (tag is null)
        {
            return false;
        }

        var rest = prefix[(tag.Length + 1)..];
        if (rest.Length < 7 || !Ascii.EqualsIgnoreCase(rest[..7], "APPEND "u8))
        {
            return false;
        }

        // Empty after "APPEND ": the literal is the mailbox name.
        return rest.Length > 7;
    }

    internal static AppendMessage? ParseAppendPrefix(ReadOnlySpan<byte> prefix, bool utf8Mailboxes, long size, bool sync, bool binary)
    {
        try
        {
            var c = new Cursor(prefix, utf8Mailboxes);
            var tag = c.ReadTag();
            c.Space();
            _ = c.ReadAtomUpper();
            c.Space();
            var mailbox = c.ReadMailbox();
            c.Space();
            var (flags, keywords, date) = ParseAppendOptions(ref c);
            return c.AtEnd ? new AppendMessage(tag, mailbox, flags, keywords, date, size, sync, binary, true) : null;
        }
        catch (ImapParseException)
        {
            return null;
        }
    }

    internal static AppendMessage? ParseAppendContinuation(ReadOnlySpan<byte> prefix, string tag, string mailbox, long size, bool sync, bool binary)
    {
        try
        {
            // RFC 3502: SP [flag-list SP] [date-time SP] literal
            var c = new Cursor(prefix, false);
            c.Space();
            var (flags, keywords, date) = ParseAppendOptions(ref c);
            return c.AtEnd ? new AppendMessage(tag, mailbox, flags, keywords, date, size, sync, binary, false) : null;
        }
        catch (ImapParseException)
        {
            return null;
        }
    }

    private static (MessageFlags, IReadOnlyList<string>, DateTimeOffset?) ParseAppendOptions(ref Cursor c)
    {
        var flags = MessageFlags.None;
        IReadOnlyList<string> keywords = [];
        DateTimeOffset? date = null;
        if (c.Peek == (byte)'(')
        {
            (flags, keywords) = c.ReadFlagList(allowRecent: false);
            c.Space();
        }

        if (c.Peek == (byte)'"')
        {
            date = c.ReadDateTime();
            c.Space();
        }

        return (flags, keywords, date);
    }

    private static string SpaceMailbox(ref Cursor c)
    {
        c.Space();
        return c.ReadMailbox();
    }

    // RFC 9208 formal syntax: getquota = "GETQUOTA" SP quota-root-name; quota-root-name = astring.
    private static GetQuotaCommand ParseGetQuota(ref Cursor c, string tag)
    {
        c.Space();
        return new GetQuotaCommand(tag, c.ReadAString());
    }

    // RFC 9208 formal syntax: setquota = "SETQUOTA" SP quota-root-name SP setquota-list;
    // setquota-list = "(" [setquota-resource *(SP setquota-resource)] ")";
    // setquota-resource = resource-name SP resource-limit (atom SP number64).
    private static SetQuotaCommand ParseSetQuota(ref Cursor c, string tag)
    {
        c.Space();
        var root = c.ReadAString();
        c.Space();
        var limits = c.ReadList(static (ref Cursor c) =>
        {
            var resource = c.ReadAtomUpper();
            c.Space();
            return (resource, c.ReadNumber64());
        });
        return new SetQuotaCommand(tag, root, limits);
    }

    private static SequenceSet SpaceSequenceSet(ref Cursor c)
    {
        c.Space();
        return c.ReadSequenceSet();
    }

    private static LoginCommand ParseLogin(ref Cursor c, string tag)
    {
        c.Space();
        var user = c.ReadAString();
        c.Space();
        var password = c.ReadAString();
        return new LoginCommand(tag, user, password);
    }

    private static AuthenticateCommand ParseAuthenticate(ref Cursor c, string tag)
    {
        c.Space();
        var mechanism = c.ReadAtomUpper();
        string? initial = null;
        if (c.TrySpace())
        {
            // RFC 4959: base64 or "=" for an empty initial response.
            initial = c.ReadWhile(static b => b is (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'a' and <= (byte)'z') or (>= (byte)'0' and <= (byte)'9') or (byte)'+' or (byte)'/' or (byte)'=');
            if (initial.Length == 0)
            {
                throw new ImapParseException("Bad initial response");
            }
        }

        return new AuthenticateCommand(tag, mechanism, initial);
    }

    private static EnableCommand ParseEnable(ref Cursor c, string tag)
    {
        var list = new List<string>();
        while (c.TrySpace())
        {
            list.Add(c.ReadAtomUpper());
        }

        return list.Count == 0 ? throw new ImapParseException("ENABLE needs an argument") : new EnableCommand(tag, list);
    }

    private static IdCommand ParseId(ref Cursor c, string tag)
    {
        c.Space();
        if (c.TryNil())
        {
            return new IdCommand(tag, null);
        }

        var fields = c.ReadList(static (ref Cursor c) =>
        {
            var key = c.ReadString();
            c.Space();
            return new KeyValuePair<string, string?>(key, c.ReadNString());
        });

        // RFC 2971 §3.3: at most 30 field-value pairs; more are read and dropped.
        return new IdCommand(tag, fields.Count > 30 ? fields[..30] : fields);
    }

    private static SelectCommand ParseSelect(ref Cursor c, string tag, bool readOnly)
    {
        c.Space();
        var mailbox = c.ReadMailbox();
        var condStore = false;
        QResyncParameters? qresync = null;
        if (c.TrySpace())
        {
            c.ReadEach((ref Cursor c) =>
            {
                var p = c.ReadAtomUpper();
                if (p == "CONDSTORE")
                {
                    condStore = true;
                }
                else if (p == "QRESYNC")
                {
                    // RFC 7162 §3.2.5: "(" uidvalidity SP mod-sequence-value [SP known-uids] [SP seq-match-data] ")"
                    c.Space();
                    c.Expect((byte)'(');
                    var validity = c.ReadNzNumber();
                    c.Space();
                    var modseq = c.ReadNumber64();
                    SequenceSet? known = null;
                    if (c.TrySpace())
                    {
                        if (c.Peek != (byte)'(')
                        {
                            known = c.ReadSequenceSet();
                            c.TrySpace();
                        }

                        if (c.Peek == (byte)'(')
                        {
                            // seq-match-data: accepted and ignored (an optimisation hint).
                            c.Expect((byte)'(');
                            _ = c.ReadSequenceSet();
                            c.Space();
                            _ = c.ReadSequenceSet();
                            c.Expect((byte)')');
                        }
                    }

                    c.Expect((byte)')');
                    qresync = new QResyncParameters(validity, modseq, known);
                }
                else
                {
                    throw new ImapParseException("Unknown select parameter");
                }
            });
        }

        return new SelectCommand(tag, mailbox, readOnly, condStore, qresync);
    }

    private static CreateCommand ParseCreate(ref Cursor c, string tag)
    {
        c.Space();
        var mailbox = c.ReadMailbox();
        var uses = new List<string>();
        if (c.TrySpace())
        {
            // RFC 6154 §3: "(" "USE" SP "(" use-attr *(SP use-attr) ")" ")"
            c.Expect((byte)'(');
            if (c.ReadAtomUpper() != "USE")
            {
                throw new ImapParseException("Unknown create parameter");
            }

            c.Space();
            uses = c.ReadList(static (ref Cursor c) => c.ReadFlagAtom());
            c.Expect((byte)')');
        }

        return new CreateCommand(tag, mailbox, uses);
    }

    private static RenameCommand ParseRename(ref Cursor c, string tag)
    {
        c.Space();
        var from = c.ReadMailbox();
        c.Space();
        var to = c.ReadMailbox();
        return new RenameCommand(tag, from, to);
    }

    private static ListCommand ParseList(ref Cursor c, string tag, bool lsub)
    {
        c.Space();
        var selection = new List<string>();
        if (!lsub && c.Peek == (byte)'(')
        {
            selection = c.ReadAtomList();
            c.Space();
        }

        var reference = c.ReadMailboxRaw();
        c.Space();
        var patterns = new List<string>();
        if (!lsub && c.Peek == (byte)'(')
        {
            patterns = c.ReadList(static (ref Cursor c) => c.ReadListMailbox());
            if (patterns.Count == 0)
            {
                throw new ImapParseException("Empty pattern list");
            }
        }
        else
        {
            patterns.Add(c.ReadListMailbox());
        }

        var returns = new List<string>();
        var statusItems = new List<string>();
        if (!lsub && c.TrySpace())
        {
            if (c.ReadAtomUpper() != "RETURN")
            {
                throw new ImapParseException("Expected RETURN");
            }

            c.Space();
            c.ReadEach((ref Cursor c) =>
            {
                var opt = c.ReadAtomUpper();
                returns.Add(opt);
                if (opt == "STATUS")
                {
                    // RFC 5819: STATUS (status-att ...)
                    c.Space();
                    statusItems = c.ReadAtomList();
                }
            });
        }

        return new ListCommand(tag, reference, patterns, selection, returns, statusItems, lsub);
    }

    private static StatusCommand ParseStatus(ref Cursor c, string tag)
    {
        c.Space();
        var mailbox = c.ReadMailbox();
        c.Space();
        var items = c.ReadAtomList();
        return items.Count == 0 ? throw new ImapParseException("Empty status list") : new StatusCommand(tag, mailbox, items);
    }

    private static ImapCommand ParseUid(ref Cursor c, string tag)
    {
        c.Space();
        var sub = c.ReadAtomUpper();
        return sub switch
        {
            "FETCH" => ParseFetch(ref c, tag, true),
            "SEARCH" => ParseSearch(ref c, tag, true),
            "STORE" => ParseStore(ref c, tag, true),
            "COPY" => ParseCopy(ref c, tag, true, false),
            "MOVE" => ParseCopy(ref c, tag, true, true),
            "EXPUNGE" => new ExpungeCommand(tag, SpaceSequenceSet(ref c)),
            "SORT" => ParseSort(ref c, tag, true),
            "THREAD" => ParseThread(ref c, tag, true),
            _ => throw new ImapParseException("Unknown UID command"),
        };
    }

    private static CopyCommand ParseCopy(ref Cursor c, string tag, bool uid, bool move)
    {
        c.Space();
        var set = c.ReadSequenceSet();
        c.Space();
        var mailbox = c.ReadMailbox();
        return new CopyCommand(tag, uid, set, mailbox, move);
    }

    private static StoreCommand ParseStore(ref Cursor c, string tag, bool uid)
    {
        c.Space();
        var set = c.ReadSequenceSet();
        c.Space();
        ulong? unchangedSince = null;
        if (c.Peek == (byte)'(')
        {
            // RFC 7162 §3.1.3: "(" "UNCHANGEDSINCE" SP mod-sequence-valzer ")"
            c.Expect((byte)'(');
            if (c.ReadAtomUpper() != "UNCHANGEDSINCE")
            {
                throw new ImapParseException("Unknown store modifier");
            }

            c.Space();
            unchangedSince = c.ReadNumber64();
            c.Expect((byte)')');
            c.Space();
        }

        var op = FlagOperationKind.Replace;
        if (c.Peek == (byte)'+')
        {
            op = FlagOperationKind.Add;
            c.Advance();
        }
        else if (c.Peek == (byte)'-')
        {
            op = FlagOperationKind.Remove;
            c.Advance();
        }

        var item = c.ReadAtomUpper();
        var silent = item switch
        {
            "FLAGS" => false,
            "FLAGS.SILENT" => true,
            _ => throw new ImapParseException("Unknown store item"),
        };
        c.Space();
        MessageFlags flags;
        IReadOnlyList<string> keywords;
        if (c.Peek == (byte)'(')
        {
            (flags, keywords) = c.ReadFlagList(allowRecent: false);
        }
        else
        {
            // RFC 9051 §9: store-att-flags also allows flags without parentheses.
            flags = MessageFlags.None;
            var kw = new List<string>();
            do
            {
                Cursor.AddFlag(c.ReadFlagAtom(), ref flags, kw, allowRecent: false);
            }
            while (c.TrySpace());
            keywords = kw;
        }

        return new StoreCommand(tag, uid, set, op, silent, flags, keywords, unchangedSince);
    }

    private static FetchCommand ParseFetch(ref Cursor c, string tag, bool uid)
    {
        c.Space();
        var set = c.ReadSequenceSet();
        c.Space();
        var items = new List<FetchItem>();
        if (c.Peek == (byte)'(')
        {
            c.ReadEach((ref Cursor c) => ParseFetchAtt(ref c, items, allowMacro: false));
            if (items.Count == 0)
            {
                throw new ImapParseException("Empty fetch list");
            }
        }
        else
        {
            ParseFetchAtt(ref c, items, allowMacro: true);
        }

        ulong? changedSince = null;
        var vanished = false;
        if (c.TrySpace())
        {
            // RFC 7162 §3.1.4 / §3.2.6: "(" CHANGEDSINCE SP n [SP VANISHED] ")"
            c.ReadEach((ref Cursor c) =>
            {
                var m = c.ReadAtomUpper();
                if (m == "CHANGEDSINCE")
                {
                    c.Space();
                    changedSince = c.ReadNumber64();
                }
                else if (m == "VANISHED")
                {
                    vanished = true;
                }
                else
                {
                    throw new ImapParseException("Unknown fetch modifier");
                }
            });
        }

        return new FetchCommand(tag, uid, set, items, changedSince, vanished);
    }

    private static void ParseFetchAtt(ref Cursor c, List<FetchItem> items, bool allowMacro)
    {
        var name = c.ReadWhileUpper(static b => b is (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'a' and <= (byte)'z') or (>= (byte)'0' and <= (byte)'9') or (byte)'.');
        switch (name)
        {
            case "ALL" when allowMacro:
                // RFC 9051 §6.4.5 macros.
                items.Add(new SimpleFetchItem(SimpleFetchKind.Flags));
                items.Add(new SimpleFetchItem(SimpleFetchKind.InternalDate));
                items.Add(new SimpleFetchItem(SimpleFetchKind.Rfc822Size));
                items.Add(new SimpleFetchItem(SimpleFetchKind.Envelope));
                return;
            case "FAST" when allowMacro:
                items.Add(new SimpleFetchItem(SimpleFetchKind.Flags));
                items.Add(new SimpleFetchItem(SimpleFetchKind.InternalDate));
                items.Add(new SimpleFetchItem(SimpleFetchKind.Rfc822Size));
                return;
            case "FULL" when allowMacro:
                items.Add(new SimpleFetchItem(SimpleFetchKind.Flags));
                items.Add(new SimpleFetchItem(SimpleFetchKind.InternalDate));
                items.Add(new SimpleFetchItem(SimpleFetchKind.Rfc822Size));
                items.Add(new SimpleFetchItem(SimpleFetchKind.Envelope));
                items.Add(new SimpleFetchItem(SimpleFetchKind.Body));
                return;
            case "FLAGS": items.Add(new SimpleFetchItem(SimpleFetchKind.Flags)); return;
            case "INTERNALDATE": items.Add(new SimpleFetchItem(SimpleFetchKind.InternalDate)); return;
            case "RFC822.SIZE": items.Add(new SimpleFetchItem(SimpleFetchKind.Rfc822Size)); return;
            case "ENVELOPE": items.Add(new SimpleFetchItem(SimpleFetchKind.Envelope)); return;
            case "BODYSTRUCTURE": items.Add(new SimpleFetchItem(SimpleFetchKind.BodyStructure)); return;
            case "UID": items.Add(new SimpleFetchItem(SimpleFetchKind.Uid)); return;
            case "MODSEQ": items.Add(new SimpleFetchItem(SimpleFetchKind.ModSeq)); return;
            case "RFC822": items.Add(new SimpleFetchItem(SimpleFetchKind.Rfc822)); return;
            case "RFC822.HEADER": items.Add(new SimpleFetchItem(SimpleFetchKind.Rfc822Header)); return;
            case "RFC822.TEXT": items.Add(new SimpleFetchItem(SimpleFetchKind.Rfc822Text)); return;
            case "BODY" or "BODY.PEEK":
                if (c.Peek != (byte)'[')
                {
                    if (name == "BODY.PEEK")
                    {
                        throw new ImapParseException("BODY.PEEK needs a section");
                    }

                    items.Add(new SimpleFetchItem(SimpleFetchKind.Body));
                    return;
                }

                var section = ParseSection(ref c);
                items.Add(new BodySectionItem(section, ParsePartial(ref c), name == "BODY.PEEK"));
                return;
            case "BINARY" or "BINARY.PEEK":
                items.Add(new BinaryItem(ParseBinarySection(ref c), ParsePartial(ref c), name == "BINARY.PEEK"));
                return;
            case "BINARY.SIZE":
                items.Add(new BinarySizeItem(ParseBinarySection(ref c)));
                return;
            default:
                throw new ImapParseException("Unknown fetch item");
        }
    }

    private static Section ParseSection(ref Cursor c)
    {
        // RFC 9051 §9: section = "[" [section-spec] "]"
        c.Expect((byte)'[');
        var path = new List<int>();
        var spec = SectionSpecifier.None;
        var fields = new List<string>();
        while (c.Peek is >= (byte)'1' and <= (byte)'9')
        {
            path.Add((int)Math.Min(c.ReadNzNumber(), int.MaxValue));
            if (c.Peek != (byte)'.')
            {
                break;
            }

            c.Advance();
        }

        if (c.Peek != (byte)']')
        {
            var text = c.ReadWhileUpper(static b => b is (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'a' and <= (byte)'z') or (byte)'.');
            spec = text switch
            {
                "HEADER" => SectionSpecifier.Header,
                "HEADER.FIELDS" => SectionSpecifier.HeaderFields,
                "HEADER.FIELDS.NOT" => SectionSpecifier.HeaderFieldsNot,
                "TEXT" => SectionSpecifier.Text,
                "MIME" when path.Count > 0 => SectionSpecifier.Mime,
                _ => throw new ImapParseException("Bad section"),
            };
            if (spec is SectionSpecifier.HeaderFields or SectionSpecifier.HeaderFieldsNot)
            {
                c.Space();
                fields = c.ReadList(static (ref Cursor c) => c.ReadAString());
                if (fields.Count == 0)
                {
                    throw new ImapParseException("Empty header list");
                }
            }
        }

        c.Expect((byte)']');
        return new Section(path, spec, fields);
    }

    private static List<int> ParseBinarySection(ref Cursor c)
    {
        // RFC 9051 §9: section-binary = "[" [section-part] "]"
        c.Expect((byte)'[');
        var path = new List<int>();
        while (c.Peek != (byte)']')
        {
            if (path.Count > 0)
            {
                c.Expect((byte)'.');
            }

            path.Add((int)Math.Min(c.ReadNzNumber(), int.MaxValue));
        }

        c.Expect((byte)']');
        return path;
    }

    private static Partial? ParsePartial(ref Cursor c)
    {
        if (c.Peek != (byte)'<')
        {
            return null;
        }

        c.Advance();
        var start = (long)c.ReadNumber64();
        c.Expect((byte)'.');
        var length = (long)c.ReadNumber64();
        if (length == 0)
        {
            throw new ImapParseException("Zero partial length");
        }

        c.Expect((byte)'>');
        return new Partial(start, length);
    }

    private static CompressCommand ParseCompress(ref Cursor c, string tag)
    {
        c.Space();
        return new CompressCommand(tag, c.ReadAtomUpper());
    }

    /// <summary>RFC 5256 §3: SORT [RETURN (...)] (sort-criteria) charset search-keys (RFC 5267 ESORT for RETURN).</summary>
    private static SortCommand ParseSort(ref Cursor c, string tag, bool uid)
    {
        c.Space();
        List<string>? returns = null;
        if (c.PeekAtomUpper() == "RETURN")
        {
            _ = c.ReadAtomUpper();
            c.Space();
            returns = c.ReadAtomList();
            c.Space();
        }

        var words = c.ReadAtomList();
        var criteria = new List<SortCriterion>();
        var reverse = false;
        foreach (var w in words)
        {
            if (w == "REVERSE")
            {
                if (reverse)
                {
                    throw new ImapParseException("Bad sort criteria");
                }

                reverse = true;
                continue;
            }

            var key = w switch
            {
                "ARRIVAL" => SortKey.Arrival,
                "CC" => SortKey.Cc,
                "DATE" => SortKey.Date,
                "FROM" => SortKey.From,
                "SIZE" => SortKey.Size,
                "SUBJECT" => SortKey.Subject,
                "TO" => SortKey.To,
                "DISPLAYFROM" => SortKey.DisplayFrom,
                "DISPLAYTO" => SortKey.DisplayTo,
                _ => throw new ImapParseException("Bad sort criteria"),
            };
            criteria.Add(new SortCriterion(key, reverse));
            reverse = false;
        }

        if (criteria.Count == 0 || reverse)
        {
            throw new ImapParseException("Bad sort criteria");
        }

        c.Space();
        var charset = c.ReadAString();
        var criteriaKey = ParseSearchKeys(ref c);
        return new SortCommand(tag, uid, returns, criteria, charset, criteriaKey);
    }

    /// <summary>RFC 5256 §3: THREAD algorithm charset search-keys.</summary>
    private static ThreadCommand ParseThread(ref Cursor c, string tag, bool uid)
    {
        c.Space();
        var algorithm = c.ReadAtomUpper();
        c.Space();
        var charset = c.ReadAString();
        return new ThreadCommand(tag, uid, algorithm, charset, ParseSearchKeys(ref c));
    }

    private static SearchKey ParseSearchKeys(ref Cursor c)
    {
        var keys = new List<SearchKey>();
        while (c.TrySpace())
        {
            keys.Add(ParseSearchKey(ref c, 0));
        }

        return keys.Count switch
        {
            0 => throw new ImapParseException("Missing search criteria"),
            1 => keys[0],
            _ => new AndKey(keys),
        };
    }

    private static SearchCommand ParseSearch(ref Cursor c, string tag, bool uid)
    {
        c.Space();
        List<string>? returns = null;
        string? charset = null;
        if (c.PeekAtomUpper() == "RETURN")
        {
            _ = c.ReadAtomUpper();
            c.Space();
            returns = c.ReadAtomList();
            c.Space();
        }

        if (c.PeekAtomUpper() == "CHARSET")
        {
            _ = c.ReadAtomUpper();
            c.Space();
            charset = c.ReadAString();
            c.Space();
        }

        var keys = new List<SearchKey>();
        keys.Add(ParseSearchKey(ref c, 0));
        while (c.TrySpace())
        {
            keys.Add(ParseSearchKey(ref c, 0));
        }

        var criteria = keys.Count == 1 ? keys[0] : new AndKey(keys);
        return new SearchCommand(tag, uid, returns, charset, criteria);
    }

    private static SearchKey ParseSearchKey(ref Cursor c, int depth)
    {
        if (depth > 50)
        {
            throw new ImapParseException("Search too deep");
        }

        var p = c.Peek;
        if (p == (byte)'(')
        {
            c.Advance();
            var keys = new List<SearchKey> { ParseSearchKey(ref c, depth + 1) };
            while (c.TrySpace())
            {
                keys.Add(ParseSearchKey(ref c, depth + 1));
            }

            c.Expect((byte)')');
            return keys.Count == 1 ? keys[0] : new AndKey(keys);
        }

        if (p is (>= (byte)'0' and <= (byte)'9') or (byte)'*' or (byte)'$')
        {
            return new SequenceSetKey(c.ReadSequenceSet(), false);
        }

        var name = c.ReadAtomUpper();
        switch (name)
        {
            case "ALL": return new AllKey();
            case "ANSWERED": return new FlagKey(MessageFlags.Answered, true);
            case "DELETED": return new FlagKey(MessageFlags.Deleted, true);
            case "DRAFT": return new FlagKey(MessageFlags.Draft, true);
            case "FLAGGED": return new FlagKey(MessageFlags.Flagged, true);
            case "SEEN": return new FlagKey(MessageFlags.Seen, true);
            case "UNANSWERED": return new FlagKey(MessageFlags.Answered, false);
            case "UNDELETED": return new FlagKey(MessageFlags.Deleted, false);
            case "UNDRAFT": return new FlagKey(MessageFlags.Draft, false);
            case "UNFLAGGED": return new FlagKey(MessageFlags.Flagged, false);
            case "UNSEEN": return new FlagKey(MessageFlags.Seen, false);
            case "NEW": return new SessionFlagKey(SessionFlagKind.New);
            case "OLD": return new SessionFlagKey(SessionFlagKind.Old);
            case "RECENT": return new SessionFlagKey(SessionFlagKind.Recent);
            case "BCC" or "CC" or "FROM" or "SUBJECT" or "TO":
                c.Space();
                return new HeaderKey(name switch { "BCC" => "Bcc", "CC" => "Cc", "FROM" => "From", "SUBJECT" => "Subject", _ => "To" }, c.ReadAString());
            case "HEADER":
                {
                    c.Space();
                    var field = c.ReadAString();
                    c.Space();
                    return new HeaderKey(field, c.ReadAString());
                }

            case "BODY": c.Space(); return new TextKey(c.ReadAString(), false);
            case "TEXT": c.Space(); return new TextKey(c.ReadAString(), true);
            case "BEFORE": c.Space(); return new DateKey(DateKeyKind.Before, c.ReadDate());
            case "ON": c.Space(); return new DateKey(DateKeyKind.On, c.ReadDate());
            case "SINCE": c.Space(); return new DateKey(DateKeyKind.Since, c.ReadDate());
            case "SENTBEFORE": c.Space(); return new DateKey(DateKeyKind.SentBefore, c.ReadDate());
            case "SENTON": c.Space(); return new DateKey(DateKeyKind.SentOn, c.ReadDate());
            case "SENTSINCE": c.Space(); return new DateKey(DateKeyKind.SentSince, c.ReadDate());
            case "KEYWORD": c.Space(); return new KeywordKey(c.ReadFlagAtom(), true);
            case "UNKEYWORD": c.Space(); return new KeywordKey(c.ReadFlagAtom(), false);
            case "LARGER": c.Space(); return new SizeKey((long)Math.Min(c.ReadNumber64(), long.MaxValue), true);
            case "SMALLER": c.Space(); return new SizeKey((long)Math.Min(c.ReadNumber64(), long.MaxValue), false);
            case "NOT": c.Space(); return new NotKey(ParseSearchKey(ref c, depth + 1));
            case "OR":
                {
                    c.Space();
                    var left = ParseSearchKey(ref c, depth + 1);
                    c.Space();
                    return new OrKey(left, ParseSearchKey(ref c, depth + 1));
                }

            case "UID": c.Space(); return new SequenceSetKey(c.ReadSequenceSet(), true);
            case "MODSEQ":
                {
                    // RFC 7162 §3.1.5: MODSEQ [SP entry-name SP entry-type-req] SP mod-sequence-valzer
                    c.Space();
                    if (c.Peek == (byte)'"')
                    {
                        _ = c.ReadString();
                        c.Space();
                        var type = c.ReadAtomUpper();
                        if (type is not ("PRIV" or "SHARED" or "ALL"))
                        {
                            throw new ImapParseException("Bad entry type");
                        }

                        c.Space();
                    }

                    return new ModSeqKey(c.ReadNumber64());
                }

            default:
                throw new ImapParseException("Unknown search key");
        }
    }

    internal static bool IsTagChar(byte b) => IsAStringChar(b) && b != (byte)'+';

    /// <summary>RFC 9051 §9 ATOM-CHAR: any CHAR except atom-specials.</summary>
    internal static bool IsAtomChar(byte b) =>
        b > 0x20 && b < 0x7f && b is not ((byte)'(' or (byte)')' or (byte)'{' or (byte)'%' or (byte)'*' or (byte)'"' or (byte)'\\' or (byte)']');

    internal static bool IsAStringChar(byte b) => IsAtomChar(b) || b == (byte)']';

    internal static bool IsListChar(byte b) => IsAStringChar(b) || b is (byte)'%' or (byte)'*';

    private delegate T ElementReader<T>(ref Cursor c);

    private delegate void ElementAction(ref Cursor c);

    /// <summary>A position in the assembled command. Methods throw <see cref="ImapParseException"/>.</summary>
    private ref struct Cursor(ReadOnlySpan<byte> data, bool utf8Mailboxes)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private readonly bool _utf8 = utf8Mailboxes;
        private int _pos;

        public readonly bool AtEnd => _pos >= _data.Length;

        public readonly byte Peek => _pos < _data.Length ? _data[_pos] : (byte)0;

        public void Advance() => _pos++;

        public void Expect(byte b)
        {
            if (Peek != b || AtEnd)
            {
                throw new ImapParseException("Unexpected character");
            }

            _pos++;
        }

        public void Space() => Expect((byte)' ');

        public bool TrySpace()
        {
            if (!AtEnd && Peek == (byte)' ')
            {
                _pos++;
                return true;
            }

            return false;
        }

        public string ReadTag()
        {
            var start = _pos;
            while (!AtEnd && IsTagChar(_data[_pos]))
            {
                _pos++;
            }

            return _pos == start ? throw new ImapParseException("Missing tag") : Encoding.ASCII.GetString(_data[start.._pos]);
        }

        public string ReadAtomUpper()
        {
            var start = _pos;
            while (!AtEnd && IsAtomChar(_data[_pos]))
            {
                _pos++;
            }

            if (_pos == start)
            {
                throw new ImapParseException("Expected atom");
            }

            return Encoding.ASCII.GetString(_data[start.._pos]).ToUpperInvariant();
        }

        public readonly string? PeekAtomUpper()
        {
            var p = _pos;
            while (p < _data.Length && IsAtomChar(_data[p]))
            {
                p++;
            }

            return p == _pos ? null : Encoding.ASCII.GetString(_data[_pos..p]).ToUpperInvariant();
        }

        public string ReadWhile(Func<byte, bool> predicate)
        {
            var start = _pos;
            while (!AtEnd && predicate(_data[_pos]))
            {
                _pos++;
            }

            return Encoding.ASCII.GetString(_data[start.._pos]);
        }

        public string ReadWhileUpper(Func<byte, bool> predicate) => ReadWhile(predicate).ToUpperInvariant();

        /// <summary>A flag or keyword: <c>\Seen</c> or an atom (RFC 9051 §9 flag).</summary>
        public string ReadFlagAtom()
        {
            var start = _pos;
            if (Peek == (byte)'\\')
            {
                _pos++;
            }

            while (!AtEnd && IsAtomChar(_data[_pos]))
            {
                _pos++;
            }

            if (_pos == start || (_pos == start + 1 && _data[start] == (byte)'\\'))
            {
                throw new ImapParseException("Expected flag");
            }

            return Encoding.ASCII.GetString(_data[start.._pos]);
        }

        public (MessageFlags Flags, IReadOnlyList<string> Keywords) ReadFlagList(bool allowRecent)
        {
            var flags = MessageFlags.None;
            var keywords = new List<string>();
            foreach (var flag in ReadList(static (ref Cursor c) => c.ReadFlagAtom()))
            {
                AddFlag(flag, ref flags, keywords, allowRecent);
            }

            return (flags, keywords);
        }

        public static void AddFlag(string flag, ref MessageFlags flags, List<string> keywords, bool allowRecent)
        {
            if (flag[0] != '\\')
            {
                if (!keywords.Contains(flag, StringComparer.OrdinalIgnoreCase))
                {
                    keywords.Add(flag);
                }

                return;
            }

            flags |= flag.ToUpperInvariant() switch
            {
                "\\SEEN" => MessageFlags.Seen,
                "\\ANSWERED" => MessageFlags.Answered,
                "\\FLAGGED" => MessageFlags.Flagged,
                "\\DELETED" => MessageFlags.Deleted,
                "\\DRAFT" => MessageFlags.Draft,

                // RFC 3501 §6.4.6: \Recent cannot be stored; clients that send it are ignored.
                "\\RECENT" when allowRecent => MessageFlags.None,
                _ => throw new ImapParseException("Unknown system flag"),
            };
        }

        public List<string> ReadAtomList() => ReadList(static (ref Cursor c) => c.ReadAtomUpper());

        /// <summary>RFC 9051 §9 list syntax, <c>"(" element *(SP element) ")"</c> (an empty list
        /// included): <paramref name="element"/> reads one element at a time.</summary>
        public List<T> ReadList<T>(ElementReader<T> element)
        {
            var list = new List<T>();
            ReadEach((ref Cursor c) => list.Add(element(ref c)));
            return list;
        }

        /// <summary>The same list syntax for elements that act rather than return a value.</summary>
        public void ReadEach(ElementAction element)
        {
            Expect((byte)'(');
            var first = true;
            while (Peek != (byte)')')
            {
                if (!first)
                {
                    Space();
                }

                first = false;
                element(ref this);
            }

            Expect((byte)')');
        }

        public bool TryNil()
        {
            if (_data.Length - _pos >= 3 && Ascii.EqualsIgnoreCase(_data.Slice(_pos, 3), "NIL"u8) &&
                (_pos + 3 == _data.Length || !IsAStringChar(_data[_pos + 3])))
            {
                _pos += 3;
                return true;
            }

            return false;
        }

        public ReadOnlySpan<byte> ReadAStringBytes()
        {
            if (Peek == (byte)'"' || Peek == (byte)'{' || Peek == (byte)'~')
            {
                return ReadStringBytes();
            }

            var start = _pos;
            while (!AtEnd && IsAStringChar(_data[_pos]))
            {
                _pos++;
            }

            return _pos == start ? throw new ImapParseException("Expected astring") : _data[start.._pos];
        }

        public string ReadAString() => Utf8(ReadAStringBytes());

        public string ReadString() => Utf8(ReadStringBytes());

        public string? ReadNString() => TryNil() ? null : ReadString();

        public ReadOnlySpan<byte> ReadStringBytes()
        {
            if (Peek == (byte)'"')
            {
                _pos++;
                var sb = new List<byte>();
                while (true)
                {
                    if (AtEnd)
                    {
                        throw new ImapParseException("Unterminated quoted string");
                    }

                    var b = _data[_pos++];
                    if (b == (byte)'"')
                    {
                        return sb.ToArray();
                    }

                    if (b == (byte)'\\')
                    {
                        // RFC 9051 §9: quoted-specials only may be escaped.
                        if (AtEnd || _data[_pos] is not ((byte)'"' or (byte)'\\'))
                        {
                            throw new ImapParseException("Bad escape");
                        }

                        b = _data[_pos++];
                    }
                    else if (b is (byte)'\r' or (byte)'\n' or 0)
                    {
                        throw new ImapParseException("CR/LF in quoted string");
                    }

                    sb.Add(b);
                }
            }

            if (Peek == (byte)'~')
            {
                _pos++;
            }

            Expect((byte)'{');
            var size = ReadNumber64();
            if (Peek == (byte)'+')
            {
                _pos++;
            }

            Expect((byte)'}');
            Expect((byte)'\r');
            Expect((byte)'\n');
            if ((ulong)(_data.Length - _pos) < size)
            {
                throw new ImapParseException("Short literal");
            }

            var literal = _data.Slice(_pos, (int)size);
            _pos += (int)size;
            return literal;
        }

        /// <summary>A mailbox name decoded to its stored form (INBOX canonical).</summary>
        public string ReadMailbox()
        {
            var name = ReadMailboxRaw();
            return string.Equals(name, "INBOX", StringComparison.OrdinalIgnoreCase) ? "INBOX" : name;
        }

        public string ReadMailboxRaw() => DecodeMailbox(ReadAStringBytes());

        public string ReadListMailbox()
        {
            if (Peek == (byte)'"' || Peek == (byte)'{')
            {
                return DecodeMailbox(ReadStringBytes());
            }

            var start = _pos;
            while (!AtEnd && IsListChar(_data[_pos]))
            {
                _pos++;
            }

            return _pos == start ? throw new ImapParseException("Expected list-mailbox") : DecodeMailbox(_data[start.._pos]);
        }

        private readonly string DecodeMailbox(ReadOnlySpan<byte> raw)
        {
            // RFC 6855 §3 / RFC 9051 §5.1: with UTF8=ACCEPT names are UTF-8. Otherwise modified
            // UTF-7; leniency: 8-bit names that are not valid UTF-7 are read as UTF-8 (Outlook).
            if (_utf8 || ModifiedUtf7.TryDecode(raw, out var decoded) is false)
            {
                try
                {
                    return new UTF8Encoding(false, true).GetString(raw);
                }
                catch (DecoderFallbackException)
                {
                    throw new ImapParseException("Mailbox name is not UTF-8");
                }
            }

            return decoded!;
        }

        public SequenceSet ReadSequenceSet()
        {
            var start = _pos;
            while (!AtEnd && _data[_pos] is (>= (byte)'0' and <= (byte)'9') or (byte)':' or (byte)',' or (byte)'*' or (byte)'$')
            {
                _pos++;
            }

            return SequenceSet.TryParse(_data[start.._pos], out var set) ? set! : throw new ImapParseException("Bad sequence set");
        }

        public ulong ReadNumber64()
        {
            var start = _pos;
            ulong v = 0;
            while (!AtEnd && _data[_pos] is >= (byte)'0' and <= (byte)'9')
            {
                var next = (v * 10) + (ulong)(_data[_pos] - '0');
                if (next / 10 != v)
                {
                    throw new ImapParseException("Number too large");
                }

                v = next;
                _pos++;
                if (_pos - start > 20)
                {
                    throw new ImapParseException("Number too large");
                }
            }

            return _pos == start ? throw new ImapParseException("Expected number") : v;
        }

        public uint ReadNzNumber()
        {
            var v = ReadNumber64();
            return v is 0 or > uint.MaxValue ? throw new ImapParseException("Bad number") : (uint)v;
        }

        /// <summary>RFC 9051 §9 date = date-text / DQUOTE date-text DQUOTE; date-text = day "-" month "-" year.</summary>
        public DateOnly ReadDate()
        {
            var quoted = Peek == (byte)'"';
            if (quoted)
            {
                _pos++;
            }

            var day = (int)ReadNumber64();
            Expect((byte)'-');
            var month = ReadMonth();
            Expect((byte)'-');
            var year = (int)ReadNumber64();
            if (quoted)
            {
                Expect((byte)'"');
            }

            try
            {
                return new DateOnly(year, month, day);
            }
            catch (ArgumentOutOfRangeException)
            {
                throw new ImapParseException("Bad date");
            }
        }

        /// <summary>RFC 9051 §9 date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE.</summary>
        public DateTimeOffset ReadDateTime()
        {
            Expect((byte)'"');
            if (Peek == (byte)' ')
            {
                _pos++;
            }

            var day = (int)ReadNumber64();
            Expect((byte)'-');
            var month = ReadMonth();
            Expect((byte)'-');
            var year = (int)ReadNumber64();
            Space();
            var hour = (int)ReadNumber64();
            Expect((byte)':');
            var minute = (int)ReadNumber64();
            Expect((byte)':');
            var second = (int)ReadNumber64();
            Space();
            var sign = Peek;
            if (sign is not ((byte)'+' or (byte)'-'))
            {
                throw new ImapParseException("Bad zone");
            }

            _pos++;
            var start = _pos;
            var zone = (int)ReadNumber64();
            if (_pos - start != 4)
            {
                throw new ImapParseException("Bad zone");
            }

            Expect((byte)'"');
            try
            {
                var offset = new TimeSpan(zone / 100, zone % 100, 0);
                return new DateTimeOffset(year, month, day, hour, minute, second, sign == (byte)'-' ? -offset : offset);
            }
            catch (ArgumentException)
            {
                throw new ImapParseException("Bad date-time");
            }
        }

        private int ReadMonth()
        {
            if (_data.Length - _pos < 3)
            {
                throw new ImapParseException("Bad month");
            }

            var text = _data.Slice(_pos, 3);
            for (var m = 0; m < 12; m++)
            {
                if (Ascii.EqualsIgnoreCase(text, MonthNames[m]))
                {
                    _pos += 3;
                    return m + 1;
                }
            }

            throw new ImapParseException("Bad month");
        }

        private static string Utf8(ReadOnlySpan<byte> bytes) => Encoding.UTF8.GetString(bytes);
    }

    internal static string FormatMonth(int month) => MonthNames[month - 1];

    internal static CultureInfo Invariant => CultureInfo.InvariantCulture;
}