using System.Globalization;
using System.Text;

namespace Pochta.Mime.Tests;

internal static class TestUtil
{
    public static async Task<(MessageIndex Index, byte[] Raw)> IndexAsync(string text, bool crlf = true)
    {
        var raw = Encoding.UTF8.GetBytes(crlf ? Corpus.Crlf(text) : text);
        return (await IndexAsync(raw), raw);
    }

    public static Task<MessageIndex> IndexAsync(byte[] raw) =>
        MessageIndexer.IndexAsync(new MemoryStream(raw, writable: false), CancellationToken.None);

    public static string Range(byte[] raw, BodyPart root, long size, int[] path, PartSpecifier spec)
    {
        Assert.True(PartLocator.TryLocate(root, size, path, spec, out var range), $"section {string.Join('.', path)} {spec} not found");
        Assert.InRange(range.Offset, 0, raw.Length);
        Assert.InRange(range.End, range.Offset, raw.Length);
        return Encoding.UTF8.GetString(raw, (int)range.Offset, (int)range.Length);
    }

    public static string Range(byte[] raw, MessageIndex index, string section, PartSpecifier spec = PartSpecifier.None) =>
        Range(raw, index.Body, index.Size, Path(section), spec);

    public static int[] Path(string section) =>
        section.Length == 0 ? [] : [.. section.Split('.').Select(s => int.Parse(s, CultureInfo.InvariantCulture))];

    /// <summary>A canonical dump of every field, for deep comparisons.</summary>
    public static string Dump(MessageIndex index)
    {
        var sb = new StringBuilder();
        sb.Append("size=").Append(index.Size).Append('\n');
        DumpEnvelope(sb, index.Envelope, "");
        DumpPart(sb, index.Body, "");
        sb.Append("msgid=").Append(index.Threading.MessageId).Append('\n');
        sb.Append("refs=").AppendJoin('|', index.Threading.References).Append('\n');
        sb.Append("irt=").AppendJoin('|', index.Threading.InReplyTo).Append('\n');
        var s = index.Search;
        sb.Append("base=").Append(s.BaseSubject).Append("\nsent=").Append(s.SentDate?.ToString("O", CultureInfo.InvariantCulture))
            .Append("\npreview=").Append(s.Preview).Append("\natt=").Append(s.HasAttachment).Append("\ntext=").Append(s.BodyText).Append('\n');
        foreach (var h in s.Headers)
        {
            sb.Append("H ").Append(h.Name).Append(": ").Append(h.Value).Append('\n');
        }

        return sb.ToString();
    }

    private static void DumpEnvelope(StringBuilder sb, MessageEnvelope e, string indent)
    {
        sb.Append(indent).Append("date=").Append(N(e.Date)).Append(" parsed=").Append(e.ParsedDate?.ToString("O", CultureInfo.InvariantCulture)).Append('\n');
        sb.Append(indent).Append("subject=").Append(N(e.Subject)).Append(" decoded=").Append(N(e.DecodedSubject)).Append('\n');
        foreach (var (name, list) in new[] { ("from", e.From), ("sender", e.Sender), ("reply-to", e.ReplyTo), ("to", e.To), ("cc", e.Cc), ("bcc", e.Bcc) })
        {
            sb.Append(indent).Append(name).Append('=').Append(Addresses(list)).Append('\n');
        }

        sb.Append(indent).Append("irt=").Append(N(e.InReplyTo)).Append(" mid=").Append(N(e.MessageId)).Append('\n');
    }

    public static string Addresses(IReadOnlyList<EnvelopeAddress>? list) =>
        list is null ? "NIL" : "(" + string.Join("", list.Select(a => $"({N(a.RawName)} {N(a.Name)} {N(a.Route)} {N(a.Mailbox)} {N(a.Host)}{(a.IsGroupStart ? " g=" + N(a.DecodedGroupName) : "")})")) + ")";

    private static void DumpPart(StringBuilder sb, BodyPart p, string indent)
    {
        sb.Append(indent).Append(p.Kind).Append(' ').Append(p.MediaType).Append('/').Append(p.MediaSubtype)
            .Append(" [").AppendJoin(";", p.Parameters.Select(x => x.Name + "=" + x.Value)).Append("] id=").Append(N(p.ContentId))
            .Append(" desc=").Append(N(p.Description)).Append(" cte=").Append(N(p.TransferEncoding)).Append(" md5=").Append(N(p.Md5))
            .Append(" disp=").Append(p.Disposition is null ? "NIL" : p.Disposition.Type + "[" + string.Join(";", p.Disposition.Parameters.Select(x => x.Name + "=" + x.Value)) + "]")
            .Append(" lang=").Append(p.Languages is null ? "NIL" : string.Join(",", p.Languages)).Append(" loc=").Append(N(p.Location))
            .Append(" off=").Append(p.Offset).Append(',').Append(p.BodyOffset).Append(',').Append(p.End).Append(" lines=").Append(p.Lines).Append('\n');
        foreach (var c in p.Children)
        {
            DumpPart(sb, c, indent + "  ");
        }

        if (p.MessageEnvelope is not null)
        {
            DumpEnvelope(sb, p.MessageEnvelope, indent + "  env ");
        }

        if (p.Message is not null)
        {
            DumpPart(sb, p.Message, indent + "  msg ");
        }
    }

    private static string N(string? s) => s is null ? "NIL" : "\"" + s + "\"";
}