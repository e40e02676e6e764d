using System.Globalization;

using MailKit;

using MimeKit;

using Spectre.Console;

namespace Pochta.Client.Cli;

/// <summary>JSON shape of a message in lists.</summary>
internal sealed record MessageSummaryView(uint Uid, DateTimeOffset? Date, string From, string To, string Subject, uint? Size, string[] Flags);

internal static class MessageViews
{
    public const MessageSummaryItems ListItems =
        MessageSummaryItems.UniqueId | MessageSummaryItems.Envelope | MessageSummaryItems.Flags
        | MessageSummaryItems.Size | MessageSummaryItems.InternalDate;

    public static MessageSummaryView ToView(IMessageSummary summary) => new(
        summary.UniqueId.Id,
        summary.Envelope?.Date ?? summary.InternalDate,
        summary.Envelope?.From.ToString() ?? string.Empty,
        summary.Envelope?.To.ToString() ?? string.Empty,
        summary.Envelope?.Subject ?? string.Empty,
        summary.Size,
        Args.FlagNames(summary.Flags ?? MessageFlags.None, summary.Keywords));

    public static void WriteList(VerbContext context, IReadOnlyList<IMessageSummary> summaries)
    {
        var views = summaries.OrderBy(s => s.UniqueId.Id).Select(ToView).ToList();
        if (context.Json)
        {
            context.WriteJson(views);
            return;
        }

        if (views.Count == 0)
        {
            context.Out.WriteLine("no messages");
            return;
        }

        var table = new Table().AddColumns("#", "Date", "From", "Subject", "Size", "Flags");
        foreach (var view in views)
        {
            table.AddRow(
                new Text(view.Uid.ToString(CultureInfo.InvariantCulture)),
                new Text(view.Date?.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) ?? string.Empty),
                new Text(Shorten(view.From, 30)),
                new Text(Shorten(view.Subject, 60)),
                new Text(FormatSize(view.Size ?? 0)),
                new Text(string.Join(' ', view.Flags)));
        }

        context.Console.Write(table);
    }

    public static string FormatSize(long size) => size switch
    {
        < 1024 => size.ToString(CultureInfo.InvariantCulture) + " B",
        < 1024 * 1024 => (size / 1024.0).ToString("0.#", CultureInfo.InvariantCulture) + " KB",
        _ => (size / (1024.0 * 1024)).ToString("0.#", CultureInfo.InvariantCulture) + " MB",
    };

    public static string Shorten(string text, int length) => text.Length <= length ? text : text[..(length - 1)] + "…";

    /// <summary>The decoded size of a part, by decoding it once.</summary>
    public static long DecodedSize(MimeEntity entity, CancellationToken cancellationToken)
    {
        using var counter = new CountingStream();
        switch (entity)
        {
            case MimePart part when part.Content is not null:
                part.Content.DecodeTo(counter, cancellationToken);
                break;
            case MessagePart message when message.Message is not null:
                message.Message.WriteTo(counter, cancellationToken);
                break;
        }

        return counter.Length;
    }

    public static string FileNameOf(MimeEntity entity, int index) => entity switch
    {
        MimePart { FileName: { Length: > 0 } name } => name,
        MessagePart { Message.Subject: { Length: > 0 } subject } => subject + ".eml",
        MessagePart => $"message-{index}.eml",
        _ => $"attachment-{index}",
    };

    private sealed class CountingStream : Stream
    {
        private long _length;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => _length;

        public override long Position { get => _length; set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => _length += count;

        public override void Write(ReadOnlySpan<byte> buffer) => _length += buffer.Length;
    }
}