using System.Buffers;
using System.Globalization;

using Pochta.Core;
using Pochta.Imap.Fetch;
using Pochta.Imap.Protocol;
using Pochta.Mime;
using Pochta.Storage;

namespace Pochta.Imap.Handlers;

/// <summary>
/// RFC 9051 §6.4.5 FETCH / §6.4.9 UID FETCH with RFC 7162 CHANGEDSINCE and VANISHED. Structure
/// items come from the stored index; body sections are byte ranges of the stored blob, streamed
/// into the output (never a whole message in memory); BINARY decodes while streaming (RFC 3516).
/// </summary>
internal sealed class FetchHandler : CommandHandler<FetchCommand>
{
    private const int CopyBuffer = 16 * 1024;

    protected override async Task<CommandResult> ExecuteAsync(ImapSession session, FetchCommand command, CancellationToken cancellationToken)
    {
        var view = session.Selected!;
        if (!command.Uid && view.HasInvalidSequenceNumber(command.Set))
        {
            return CommandResult.Bad("Invalid message sequence number");
        }

        if (command.Vanished && (!command.Uid || command.ChangedSince is null || !session.QResync))
        {
            // RFC 7162 §3.2.6: VANISHED only in UID FETCH with CHANGEDSINCE, after ENABLE QRESYNC.
            return CommandResult.Bad("VANISHED needs UID FETCH, CHANGEDSINCE and QRESYNC");
        }

        var items = new List<FetchItem>(command.Items);
        if (command.Uid && !items.Contains(new SimpleFetchItem(SimpleFetchKind.Uid)))
        {
            // RFC 9051 §6.4.9: UID FETCH always returns UID.
            items.Insert(0, new SimpleFetchItem(SimpleFetchKind.Uid));
        }

        if (command.ChangedSince is not null || items.Contains(new SimpleFetchItem(SimpleFetchKind.ModSeq)))
        {
            // RFC 7162 §3.1: these enable CONDSTORE; CHANGEDSINCE implies MODSEQ in the responses.
            session.Enable(Enabled.CondStore);
            if (!items.Contains(new SimpleFetchItem(SimpleFetchKind.ModSeq)))
            {
                items.Add(new SimpleFetchItem(SimpleFetchKind.ModSeq));
            }
        }

        var seqs = view.Resolve(command.Set, command.Uid, session.SavedSearch);
        if (command.ChangedSince is { } since)
        {
            seqs.RemoveAll(s => view[s].ModSeq <= since);
            if (command.Vanished)
            {
                var changes = await session.Store.Mailboxes.GetChangesSinceAsync(view.Info.Id, since, cancellationToken);
                var max = view.Count > 0 ? view[view.Count].Uid : 0;
                var gone = changes.Expunged.Where(u => command.Set.Contains(u, Math.Max(max, view.UidNext - 1))).Order().ToList();
                if (gone.Count > 0)
                {
                    session.Writer.Untagged().Raw("VANISHED (EARLIER) "u8).Ascii(SequenceSet.Format(gone)).EndLine();
                }
            }
        }

        var needsIndex = items.Any(i => i is BodySectionItem or BinaryItem or BinarySizeItem
            || i is SimpleFetchItem { Kind: SimpleFetchKind.Envelope or SimpleFetchKind.Body or SimpleFetchKind.BodyStructure or SimpleFetchKind.Rfc822 or SimpleFetchKind.Rfc822Header or SimpleFetchKind.Rfc822Text });
        var setsSeen = !view.ReadOnly && items.Any(i => i is BodySectionItem { Peek: false } or BinaryItem { Peek: false }
            || i is SimpleFetchItem { Kind: SimpleFetchKind.Rfc822 or SimpleFetchKind.Rfc822Text });

        var wantsHeader = items.Any(i => i is BodySectionItem b && IsTopLevelHeader(b.Section) || i is SimpleFetchItem { Kind: SimpleFetchKind.Rfc822Header });
        var seenNow = new HashSet<uint>();
        if (setsSeen)
        {
            // RFC 9051 §6.4.5: BODY[...] (not PEEK) sets \Seen; the FETCH then includes FLAGS.
            var unseen = seqs.Select(s => view[s]).Where(e => (e.Flags & MessageFlags.Seen) == 0 && !view.IsExpungedPending(e.Uid)).Select(e => e.Uid).ToList();
            if (unseen.Count > 0)
            {
                var result = await session.Store.Mailboxes.StoreFlagsAsync(view.Info.Id, unseen, FlagOperation.Add, MessageFlags.Seen, [], null, cancellationToken);
                foreach (var e in result.Updated)
                {
                    view.Update(e);
                    seenNow.Add(e.Uid);
                }
            }
        }

        var w = session.Writer;
        foreach (var seq in seqs)
        {
            var entry = view[seq];
            if (view.IsExpungedPending(entry.Uid) && needsIndex)
            {
                // Expunged by another session, not yet reported: its content is gone (RFC 9051 §7.5.1).
                continue;
            }

            MessageIndex? index = null;
            byte[]? header = null;
            Stream? blob = null;
            if (needsIndex)
            {
                // Everything that can find the message gone is read before the response starts,
                // so a message expunged meanwhile is skipped instead of leaving a broken line.
                try
                {
                    index = await session.Services.Cache.GetIndexAsync(session.Store.Messages, entry.MessageId, cancellationToken);
                    if (wantsHeader)
                    {
                        header = await session.Services.Cache.GetHeaderAsync(session.Store.Messages, entry.MessageId, index, cancellationToken);
                    }

                    if (NeedsBlob(items, header is not null))
                    {
                        blob = await session.Store.Messages.OpenMessageAsync(entry.MessageId, cancellationToken);
                    }
                }
                catch (StoreNotFoundException)
                {
                    continue;
                }

                foreach (var item in items)
                {
                    if ((item is BinaryItem b && !BinarySupported(index, b.Path)) || (item is BinarySizeItem bs && !BinarySupported(index, bs.Path)))
                    {
                        // RFC 3516 §4.3: a content transfer encoding we cannot decode.
                        if (blob is not null)
                        {
                            await blob.DisposeAsync();
                        }

                        return CommandResult.No("Unknown content transfer encoding", "UNKNOWN-CTE");
                    }
                }
            }

            try
            {
                w.Untagged().Number((long)seq).Raw(" FETCH ("u8);
                var first = true;
                var flagsWritten = false;
                foreach (var item in items)
                {
                    if (!first)
                    {
                        w.Space();
                    }

                    first = false;
                    switch (item)
                    {
                        case SimpleFetchItem s:
                            flagsWritten |= s.Kind == SimpleFetchKind.Flags;
                            await WriteSimpleAsync(session, s.Kind, seq, entry, index, header, blob, cancellationToken);
                            break;
                        case BodySectionItem b:
                            await WriteSectionAsync(session, "BODY", b.Section, b.Partial, index!, IsTopLevelHeader(b.Section) ? header : null, blob, cancellationToken);
                            break;
                        case BinaryItem b:
                            await WriteBinaryAsync(session, b, index!, blob!, cancellationToken);
                            break;
                        case BinarySizeItem b:
                            w.Raw("BINARY.SIZE["u8).Ascii(Path(b.Path)).Raw("] "u8).Number(await BinarySizeAsync(index!, b.Path, blob!, cancellationToken));
                            break;
                    }
                }

                if (seenNow.Contains(entry.Uid) && !flagsWritten)
                {
                    w.Raw(" FLAGS "u8);
                    SelectedMailbox.WriteFlagList(w, view[seq].Flags, view[seq].Keywords, view.IsRecent(entry.Uid) && !session.Rev2);
                }

                w.Close().EndLine();
            }
            finally
            {
                if (blob is not null)
                {
                    await blob.DisposeAsync();
                }
            }

            await session.FlushIfLargeAsync(cancellationToken);
        }

        return CommandResult.Ok(command.Name + " completed");
    }

    /// <summary>True when some item needs the raw message bytes (not only the index and the
    /// cached top-level header).</summary>
    private static bool NeedsBlob(List<FetchItem> items, bool haveHeader)
    {
        foreach (var item in items)
        {
            var needs = item switch
            {
                BodySectionItem b => !(haveHeader && IsTopLevelHeader(b.Section)),
                BinaryItem or BinarySizeItem => true,
                SimpleFetchItem { Kind: SimpleFetchKind.Rfc822 or SimpleFetchKind.Rfc822Text } => true,
                SimpleFetchItem { Kind: SimpleFetchKind.Rfc822Header } => !haveHeader,
                _ => false,
            };
            if (needs)
            {
                return true;
            }
        }

        return false;
    }

    private static async Task WriteSimpleAsync(ImapSession session, SimpleFetchKind kind, int seq, MessageEntry entry, MessageIndex? index, byte[]? header, Stream? blob, CancellationToken cancellationToken)
    {
        var w = session.Writer;
        var view = session.Selected!;
        switch (kind)
        {
            case SimpleFetchKind.Flags:
                w.Raw("FLAGS "u8);
                var current = view[seq];
                SelectedMailbox.WriteFlagList(w, current.Flags, current.Keywords, view.IsRecent(entry.Uid) && !session.Rev2);
                break;
            case SimpleFetchKind.InternalDate:
                w.Raw("INTERNALDATE "u8).Ascii(Formats.DateTime(entry.InternalDate));
                break;
            case SimpleFetchKind.Rfc822Size:
                w.Raw("RFC822.SIZE "u8).Number(entry.Size);
                break;
            case SimpleFetchKind.Uid:
                w.Raw("UID "u8).Number((ulong)entry.Uid);
                break;
            case SimpleFetchKind.ModSeq:
                w.Raw("MODSEQ ("u8).Number(view[seq].ModSeq).Raw(")"u8);
                break;
            case SimpleFetchKind.Envelope:
                w.Raw("ENVELOPE "u8);
                StructureWriter.Envelope(w, index!.Envelope);
                break;
            case SimpleFetchKind.Body:
                w.Raw("BODY "u8);
                StructureWriter.Body(w, index!.Body, extensible: false);
                break;
            case SimpleFetchKind.BodyStructure:
                w.Raw("BODYSTRUCTURE "u8);
                StructureWriter.Body(w, index!.Body, extensible: true);
                break;
            case SimpleFetchKind.Rfc822:
                w.Raw("RFC822 "u8);
                await WriteRangeAsync(session, blob!, new ByteRange(0, index!.Size), null, cancellationToken);
                break;
            case SimpleFetchKind.Rfc822Header:
                w.Raw("RFC822.HEADER "u8);
                if (header is not null)
                {
                    w.Literal(header);
                    break;
                }

                await WriteRangeAsync(session, blob!, new ByteRange(index!.Body.Offset, index.Body.HeaderLength), null, cancellationToken);
                break;
            case SimpleFetchKind.Rfc822Text:
                w.Raw("RFC822.TEXT "u8);
                await WriteRangeAsync(session, blob!, new ByteRange(index!.Body.BodyOffset, index.Size - index.Body.BodyOffset), null, cancellationToken);
                break;
        }
    }

    private static string Path(IReadOnlyList<int> path) => string.Join('.', path.Select(p => p.ToString(CultureInfo.InvariantCulture)));

    /// <summary>BODY[HEADER], BODY[HEADER.FIELDS (...)], BODY[HEADER.FIELDS.NOT (...)] of the
    /// message itself: served from the shared header cache.</summary>
    private static bool IsTopLevelHeader(Section section) =>
        section.Path.Count == 0 && section.Specifier is SectionSpecifier.Header or SectionSpecifier.HeaderFields or SectionSpecifier.HeaderFieldsNot;

    /// <param name="header">The top-level header block when the section is one of <see cref="IsTopLevelHeader"/>
    /// and it was cached; otherwise null and <paramref name="blob"/> is open.</param>
    private static async Task WriteSectionAsync(ImapSession session, string name, Section section, Partial? partial, MessageIndex index, byte[]? header, Stream? blob, CancellationToken cancellationToken)
    {
        var w = session.Writer;
        w.Ascii(name).Raw("["u8);
        var path = Path(section.Path);
        w.Ascii(path);
        if (section.Specifier != SectionSpecifier.None)
        {
            if (path.Length > 0)
            {
                w.Raw("."u8);
            }

            w.Raw(section.Specifier switch
            {
                SectionSpecifier.Header => "HEADER"u8,
                SectionSpecifier.HeaderFields => "HEADER.FIELDS"u8,
                SectionSpecifier.HeaderFieldsNot => "HEADER.FIELDS.NOT"u8,
                SectionSpecifier.Text => "TEXT"u8,
                _ => "MIME"u8,
            });
            if (section.Specifier is SectionSpecifier.HeaderFields or SectionSpecifier.HeaderFieldsNot)
            {
                w.Raw(" ("u8);
                for (var i = 0; i < section.Fields.Count; i++)
                {
                    if (i > 0)
                    {
                        w.Space();
                    }

                    w.AString(section.Fields[i].ToUpperInvariant());
                }

                w.Raw(")"u8);
            }
        }

        w.Raw("]"u8);
        if (partial is { } p)
        {
            w.Raw("<"u8).Number(p.Start).Raw(">"u8);
        }

        w.Space();
        var specifier = section.Specifier switch
        {
            SectionSpecifier.Header or SectionSpecifier.HeaderFields or SectionSpecifier.HeaderFieldsNot => PartSpecifier.Header,
            SectionSpecifier.Text => PartSpecifier.Text,
            SectionSpecifier.Mime => PartSpecifier.Mime,
            _ => PartSpecifier.None,
        };
        var ids = section.Path.ToArray();
        if (!PartLocator.TryLocate(index, ids, specifier, out var range))
        {
            // A section that names no part (RFC 9051 §6.4.5 leaves it open): an empty string.
            w.Raw("\"\""u8);
            return;
        }

        if (header is not null && section.Specifier == SectionSpecifier.Header)
        {
            w.Literal(Cut(header, partial));
            return;
        }

        if (section.Specifier is SectionSpecifier.HeaderFields or SectionSpecifier.HeaderFieldsNot)
        {
            // Header blocks are bounded by the indexer's limits; filter in memory.
            if (header is null)
            {
                header = new byte[range.Length];
                blob!.Position = range.Offset;
                await blob.ReadExactlyAsync(header, cancellationToken);
            }

            var filtered = new ArrayBufferWriter<byte>(header.Length + 2);
            HeaderFieldFilter.Filter(header, section.Fields, section.Specifier == SectionSpecifier.HeaderFieldsNot, filtered);
            w.Literal(Cut(filtered.WrittenSpan, partial));
            return;
        }

        await WriteRangeAsync(session, blob!, range, partial, cancellationToken);
    }

    /// <summary>RFC 9051 §6.4.5: the &lt;start.length&gt; part of in-memory section data.</summary>
    private static ReadOnlySpan<byte> Cut(ReadOnlySpan<byte> data, Partial? partial)
    {
        if (partial is not { } p)
        {
            return data;
        }

        var start = (int)Math.Min(p.Start, data.Length);
        return data.Slice(start, (int)Math.Min(p.Length, data.Length - start));
    }

    /// <summary>Writes a literal with the bytes of <paramref name="range"/> (cut by <paramref name="partial"/>), streamed.</summary>
    private static async Task WriteRangeAsync(ImapSession session, Stream blob, ByteRange range, Partial? partial, CancellationToken cancellationToken)
    {
        var offset = range.Offset;
        var length = Math.Max(0, Math.Min(range.Length, blob.Length - range.Offset));
        if (partial is { } p)
        {
            var start = Math.Min(p.Start, length);
            offset += start;
            length = Math.Min(p.Length, length - start);
        }

        session.Writer.LiteralHeader(length);
        blob.Position = offset;
        await CopyAsync(session, blob, length, cancellationToken);
    }

    private static async Task CopyAsync(ImapSession session, Stream source, long length, CancellationToken cancellationToken)
    {
        var output = session.Output;
        var remaining = length;
        while (remaining > 0)
        {
            var memory = output.GetMemory(CopyBuffer);
            var want = (int)Math.Min(memory.Length, remaining);
            var n = await source.ReadAsync(memory[..want], cancellationToken);
            if (n == 0)
            {
                throw new IOException("Stored message is shorter than its index.");
            }

            output.Advance(n);
            remaining -= n;
            await session.FlushIfLargeAsync(cancellationToken);
        }
    }

    private static bool BinarySupported(MessageIndex index, IReadOnlyList<int> path)
    {
        if (path.Count == 0)
        {
            return true;
        }

        var part = PartLocator.FindPart(index.Body, path.ToArray());
        return part is null || part.Kind != BodyPartKind.Basic || TransferDecoding.IsSupported(part.TransferEncoding);
    }

    /// <summary>The decoded content of a BINARY section: a leaf decoded by its CTE; the whole
    /// message, multiparts and messages as stored (they have no transfer encoding of their own).</summary>
    private static Stream? OpenBinary(MessageIndex index, IReadOnlyList<int> path, Stream blob)
    {
        if (path.Count == 0)
        {
            return new ByteRangeStream(blob, 0, index.Size, leaveOpen: true);
        }

        var part = PartLocator.FindPart(index.Body, path.ToArray());
        if (part is null)
        {
            return null;
        }

        var raw = new ByteRangeStream(blob, part.BodyOffset, part.BodySize, leaveOpen: true);
        return part.Kind == BodyPartKind.Basic ? TransferDecoding.OpenDecoded(raw, part.TransferEncoding) : raw;
    }

    private static async Task<long> BinarySizeAsync(MessageIndex index, IReadOnlyList<int> path, Stream blob, CancellationToken cancellationToken)
    {
        if (path.Count == 0)
        {
            return index.Size;
        }

        var part = PartLocator.FindPart(index.Body, path.ToArray());
        if (part is null)
        {
            return 0;
        }

        await using var raw = new ByteRangeStream(blob, part.BodyOffset, part.BodySize, leaveOpen: true);
        return part.Kind == BodyPartKind.Basic ? await TransferDecoding.GetDecodedSizeAsync(raw, part.TransferEncoding, cancellationToken) : part.BodySize;
    }

    private static async Task WriteBinaryAsync(ImapSession session, BinaryItem item, MessageIndex index, Stream blob, CancellationToken cancellationToken)
    {
        var w = session.Writer;
        w.Raw("BINARY["u8).Ascii(Path(item.Path)).Raw("]"u8);
        if (item.Partial is { } p)
        {
            w.Raw("<"u8).Number(p.Start).Raw(">"u8);
        }

        w.Space();
        var size = await BinarySizeAsync(index, item.Path, blob, cancellationToken);
        var decoded = OpenBinary(index, item.Path, blob);
        if (decoded is null)
        {
            w.Nil();
            return;
        }

        await using (decoded)
        {
            long skip = 0;
            var length = size;
            if (item.Partial is { } part)
            {
                skip = Math.Min(part.Start, size);
                length = Math.Min(part.Length, size - skip);
            }

            // RFC 3516 §4.2: literal8, since decoded data may contain NUL.
            w.Raw("~"u8).LiteralHeader(length);
            if (skip > 0)
            {
                var buffer = ArrayPool<byte>.Shared.Rent(CopyBuffer);
                try
                {
                    while (skip > 0)
                    {
                        var n = await decoded.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, skip)), cancellationToken);
                        if (n == 0)
                        {
                            break;
                        }

                        skip -= n;
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }

            await CopyAsync(session, decoded, length, cancellationToken);
        }
    }
}