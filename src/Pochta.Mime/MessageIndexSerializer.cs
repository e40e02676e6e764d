using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Pochta.Mime;

/// <summary>
/// Compact versioned binary form of a <see cref="MessageIndex"/> (stored beside the blob).
/// Layout (version 1): version byte, size, envelope, body structure, threading, search data with
/// the body text last, so <see cref="Deserialize(ReadOnlySpan{byte}, bool)"/> can stop before
/// it and <see cref="DeserializeEnvelope"/> after the envelope. Integers are LEB128 varints;
/// strings are varint (UTF-8 length + 1) with 0 for null; lists are varint (count + 1) with 0
/// for null.
/// </summary>
public static class MessageIndexSerializer
{
    /// <summary>The format version written by <see cref="Serialize"/>.</summary>
    public const byte CurrentVersion = 1;

    /// <summary>Body structure nesting accepted when reading (writer depth is bounded by the
    /// indexer; a message/rfc822 level counts twice).</summary>
    private const int MaxReadDepth = 4 * MessageIndexer.MaxDepth + 8;

    public static byte[] Serialize(MessageIndex index)
    {
        ArgumentNullException.ThrowIfNull(index);
        var w = new Writer(256 + (index.Search.BodyText.Length * 2));
        w.Byte(CurrentVersion);
        w.VarInt(index.Size);
        WriteEnvelope(ref w, index.Envelope);
        WritePart(ref w, index.Body);
        var t = index.Threading;
        w.String(t.MessageId);
        w.Strings(t.References);
        w.Strings(t.InReplyTo);
        var s = index.Search;
        w.String(s.BaseSubject);
        w.Date(s.SentDate);
        w.VarInt(s.Headers.Count);
        foreach (var h in s.Headers)
        {
            w.String(h.Name);
            w.String(h.Value);
        }

        w.String(s.Preview);
        w.Byte(s.HasAttachment ? (byte)1 : (byte)0);
        w.String(s.BodyText);
        return w.ToArray();
    }

    /// <summary>Reads an index. With <paramref name="includeBodyText"/> false the (large) search
    /// text is not decoded and <see cref="SearchData.BodyText"/> is empty.</summary>
    /// <exception cref="InvalidDataException">Unknown version or corrupt data.</exception>
    public static MessageIndex Deserialize(ReadOnlySpan<byte> data, bool includeBodyText = true)
    {
        var r = new Reader(data);
        var size = r.Header();
        var envelope = ReadEnvelope(ref r);
        var body = ReadPart(ref r, 0);
        var threading = new ThreadingData(r.String(), r.Strings() ?? [], r.Strings() ?? []);
        var baseSubject = r.String() ?? string.Empty;
        var sentDate = r.Date();
        var headerCount = r.Count();
        var headers = new HeaderField[headerCount];
        for (var i = 0; i < headerCount; i++)
        {
            headers[i] = new HeaderField(r.String() ?? string.Empty, r.String() ?? string.Empty);
        }

        var preview = r.String() ?? string.Empty;
        var hasAttachment = r.Byte() != 0;
        var bodyText = includeBodyText ? r.String() ?? string.Empty : string.Empty;
        return new MessageIndex(size, envelope, body, threading, new SearchData(baseSubject, sentDate, headers, bodyText, preview, hasAttachment));
    }

    /// <summary>Reads only the size and the envelope (FETCH ENVELOPE / RFC822.SIZE).</summary>
    public static (long Size, MessageEnvelope Envelope) DeserializeEnvelope(ReadOnlySpan<byte> data)
    {
        var r = new Reader(data);
        var size = r.Header();
        return (size, ReadEnvelope(ref r));
    }

    private static void WriteEnvelope(ref Writer w, MessageEnvelope e)
    {
        w.String(e.Date);
        w.Date(e.ParsedDate);
        w.String(e.Subject);
        w.MaybeSame(e.DecodedSubject, e.Subject);
        WriteAddresses(ref w, e.From);
        WriteAddresses(ref w, e.Sender);
        WriteAddresses(ref w, e.ReplyTo);
        WriteAddresses(ref w, e.To);
        WriteAddresses(ref w, e.Cc);
        WriteAddresses(ref w, e.Bcc);
        w.String(e.InReplyTo);
        w.String(e.MessageId);
    }

    private static MessageEnvelope ReadEnvelope(ref Reader r)
    {
        var date = r.String();
        var parsed = r.Date();
        var subject = r.String();
        var decoded = r.MaybeSame(subject);
        return new MessageEnvelope(
            date, parsed, subject, decoded,
            ReadAddresses(ref r), ReadAddresses(ref r), ReadAddresses(ref r),
            ReadAddresses(ref r), ReadAddresses(ref r), ReadAddresses(ref r),
            r.String(), r.String());
    }

    private static void WriteAddresses(ref Writer w, IReadOnlyList<EnvelopeAddress>? list)
    {
        if (list is null)
        {
            w.VarInt(0);
            return;
        }

        w.VarInt(list.Count + 1L);
        foreach (var a in list)
        {
            w.String(a.RawName);
            w.MaybeSame(a.Name, a.RawName);
            w.String(a.Route);
            w.String(a.Mailbox);
            w.String(a.Host);
            if (a.IsGroupStart)
            {
                w.MaybeSame(a.DecodedGroupName, a.Mailbox);
            }
        }
    }

    private static EnvelopeAddress[]? ReadAddresses(ref Reader r)
    {
        var count = r.NullableCount();
        if (count < 0)
        {
            return null;
        }

        var list = new EnvelopeAddress[count];
        for (var i = 0; i < count; i++)
        {
            var rawName = r.String();
            var name = r.MaybeSame(rawName);
            var a = new EnvelopeAddress(rawName, name, r.String(), r.String(), r.String());
            if (a.IsGroupStart)
            {
                a = a with { DecodedGroupName = r.MaybeSame(a.Mailbox) };
            }

            list[i] = a;
        }

        return list;
    }

    private static void WriteParameters(ref Writer w, IReadOnlyList<BodyParameter> list)
    {
        w.VarInt(list.Count);
        foreach (var p in list)
        {
            w.String(p.Name);
            w.String(p.Value);
        }
    }

    private static BodyParameter[] ReadParameters(ref Reader r)
    {
        var count = r.Count();
        if (count == 0)
        {
            return [];
        }

        var list = new BodyParameter[count];
        for (var i = 0; i < count; i++)
        {
            list[i] = new BodyParameter(r.String() ?? string.Empty, r.String() ?? string.Empty);
        }

        return list;
    }

    private static void WritePart(ref Writer w, BodyPart p)
    {
        w.Byte((byte)p.Kind);
        w.String(p.MediaType);
        w.String(p.MediaSubtype);
        WriteParameters(ref w, p.Parameters);
        w.String(p.ContentId);
        w.String(p.Description);
        w.String(p.TransferEncoding);
        w.String(p.Md5);
        if (p.Disposition is { } d)
        {
            w.Byte(1);
            w.String(d.Type);
            WriteParameters(ref w, d.Parameters);
        }
        else
        {
            w.Byte(0);
        }

        w.Strings(p.Languages);
        w.String(p.Location);
        w.VarInt(p.Offset);
        w.VarInt(p.BodyOffset - p.Offset);
        w.VarInt(p.End - p.BodyOffset);
        w.VarInt(p.Lines);
        w.VarInt(p.Children.Count);
        foreach (var child in p.Children)
        {
            WritePart(ref w, child);
        }

        if (p.MessageEnvelope is { } env)
        {
            w.Byte(1);
            WriteEnvelope(ref w, env);
        }
        else
        {
            w.Byte(0);
        }

        if (p.Message is { } nested)
        {
            w.Byte(1);
            WritePart(ref w, nested);
        }
        else
        {
            w.Byte(0);
        }
    }

    private static BodyPart ReadPart(ref Reader r, int depth)
    {
        if (depth > MaxReadDepth)
        {
            throw new InvalidDataException("Message index nesting too deep.");
        }

        var kind = (BodyPartKind)r.Byte();
        if (kind > BodyPartKind.Message)
        {
            throw new InvalidDataException("Unknown body part kind.");
        }

        var type = r.String() ?? string.Empty;
        var subtype = r.String() ?? string.Empty;
        var parameters = ReadParameters(ref r);
        var contentId = r.String();
        var description = r.String();
        var encoding = r.String();
        var md5 = r.String();
        BodyDisposition? disposition = null;
        if (r.Byte() != 0)
        {
            disposition = new BodyDisposition(r.String() ?? string.Empty, ReadParameters(ref r));
        }

        var languages = r.Strings();
        var location = r.String();
        var offset = r.Long();
        var bodyOffset = offset + r.Long();
        var end = bodyOffset + r.Long();
        var lines = r.Long();
        var childCount = r.Count();
        BodyPart[] children = childCount == 0 ? [] : new BodyPart[childCount];
        for (var i = 0; i < childCount; i++)
        {
            children[i] = ReadPart(ref r, depth + 1);
        }

        var envelope = r.Byte() != 0 ? ReadEnvelope(ref r) : null;
        var nested = r.Byte() != 0 ? ReadPart(ref r, depth + 1) : null;
        return new BodyPart(kind, type, subtype, parameters, contentId, description, encoding, md5, disposition, languages, location,
            offset, bodyOffset, end, lines, children, envelope, nested);
    }

    private struct Writer(int capacity)
    {
        private readonly ArrayBufferWriter<byte> buffer = new(capacity);

        public readonly void Byte(byte value)
        {
            buffer.GetSpan(1)[0] = value;
            buffer.Advance(1);
        }

        public readonly void VarInt(long value)
        {
            if (value < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(value), "Negative values are not representable.");
            }

            var span = buffer.GetSpan(10);
            var n = 0;
            var v = (ulong)value;
            while (v >= 0x80)
            {
                span[n++] = (byte)(v | 0x80);
                v >>= 7;
            }

            span[n++] = (byte)v;
            buffer.Advance(n);
        }

        public readonly void String(string? value)
        {
            if (value is null)
            {
                VarInt(0);
                return;
            }

            var length = Encoding.UTF8.GetByteCount(value);
            VarInt(length + 1L);
            var written = Encoding.UTF8.GetBytes(value, buffer.GetSpan(length));
            buffer.Advance(written);
        }

        /// <summary>A decoded form that usually equals its raw form: one byte when equal.</summary>
        public readonly void MaybeSame(string? value, string? same)
        {
            if (string.Equals(value, same, StringComparison.Ordinal))
            {
                Byte(1);
            }
            else
            {
                Byte(0);
                String(value);
            }
        }

        public readonly void Strings(IReadOnlyList<string>? list)
        {
            if (list is null)
            {
                VarInt(0);
                return;
            }

            VarInt(list.Count + 1L);
            foreach (var s in list)
            {
                String(s);
            }
        }

        public readonly void Date(DateTimeOffset? value)
        {
            if (value is not { } d)
            {
                Byte(0);
                return;
            }

            Byte(1);
            var span = buffer.GetSpan(10);
            BinaryPrimitives.WriteInt64LittleEndian(span, d.Ticks);
            BinaryPrimitives.WriteInt16LittleEndian(span[8..], (short)d.Offset.TotalMinutes);
            buffer.Advance(10);
        }

        public readonly byte[] ToArray() => buffer.WrittenSpan.ToArray();
    }

    private ref struct Reader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> data = data;
        private int position;

        public long Header()
        {
            if (data.IsEmpty)
            {
                throw new InvalidDataException("Empty message index.");
            }

            var version = Byte();
            if (version != CurrentVersion)
            {
                throw new InvalidDataException($"Unsupported message index version {version}.");
            }

            return Long();
        }

        public byte Byte()
        {
            if (position >= data.Length)
            {
                throw Truncated();
            }

            return data[position++];
        }

        public long Long()
        {
            ulong result = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                var b = Byte();
                result |= (ulong)(b & 0x7F) << shift;
                if ((b & 0x80) == 0)
                {
                    if (result > long.MaxValue)
                    {
                        throw new InvalidDataException("Varint out of range.");
                    }

                    return (long)result;
                }
            }

            throw new InvalidDataException("Varint too long.");
        }

        /// <summary>A count bounded by the remaining input (each element takes at least one byte).</summary>
        public int Count()
        {
            var n = Long();
            if (n > data.Length - position)
            {
                throw Truncated();
            }

            return (int)n;
        }

        /// <summary>-1 for null.</summary>
        public int NullableCount()
        {
            var n = Long();
            if (n == 0)
            {
                return -1;
            }

            if (n - 1 > data.Length - position)
            {
                throw Truncated();
            }

            return (int)(n - 1);
        }

        public string? String()
        {
            var n = Long();
            if (n == 0)
            {
                return null;
            }

            var length = n - 1;
            if (length > data.Length - position)
            {
                throw Truncated();
            }

            var s = length == 0 ? string.Empty : Encoding.UTF8.GetString(data.Slice(position, (int)length));
            position += (int)length;
            return s;
        }

        public string? MaybeSame(string? same) => Byte() != 0 ? same : String();

        public string[]? Strings()
        {
            var count = NullableCount();
            if (count < 0)
            {
                return null;
            }

            var list = new string[count];
            for (var i = 0; i < count; i++)
            {
                list[i] = String() ?? string.Empty;
            }

            return list;
        }

        public DateTimeOffset? Date()
        {
            if (Byte() == 0)
            {
                return null;
            }

            if (data.Length - position < 10)
            {
                throw Truncated();
            }

            var ticks = BinaryPrimitives.ReadInt64LittleEndian(data[position..]);
            var minutes = BinaryPrimitives.ReadInt16LittleEndian(data[(position + 8)..]);
            position += 10;
            try
            {
                return new DateTimeOffset(ticks, TimeSpan.FromMinutes(minutes));
            }
            catch (ArgumentException ex)
            {
                throw new InvalidDataException("Invalid date in message index.", ex);
            }
        }

        private static InvalidDataException Truncated() => new("Truncated message index.");
    }
}