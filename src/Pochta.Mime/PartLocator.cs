namespace Pochta.Mime;

/// <summary>The part specifier after a section path (RFC 9051 §6.4.5). HEADER.FIELDS and
/// HEADER.FIELDS.NOT locate like <see cref="Header"/>; the caller then filters the header block
/// with <see cref="HeaderFieldFilter"/>.</summary>
public enum PartSpecifier : byte
{
    /// <summary>BODY[] / BODY[1.2]: the whole message or the part's body.</summary>
    None = 0,

    /// <summary>BODY[HEADER] / BODY[1.HEADER]: a message's header block.</summary>
    Header = 1,

    /// <summary>BODY[TEXT] / BODY[1.TEXT]: a message's body without its header.</summary>
    Text = 2,

    /// <summary>BODY[1.MIME]: a part's MIME header block.</summary>
    Mime = 3,
}

/// <summary>A byte range of the raw message.</summary>
public readonly record struct ByteRange(long Offset, long Length)
{
    public long End => Offset + Length;
}

/// <summary>Maps IMAP section specifications onto byte ranges of the raw message (RFC 9051 §6.4.5).</summary>
public static class PartLocator
{
    /// <summary>
    /// Finds the entity a section path names. An empty path is the whole message (the root).
    /// Part numbers are 1-based. A non-multipart message (or encapsulated message) has exactly one
    /// part, numbered 1, which is its body; the parts of a message/rfc822 part are the parts of
    /// the encapsulated message. Returns null for a path that names no part.
    /// </summary>
    public static BodyPart? FindPart(BodyPart root, ReadOnlySpan<int> path)
    {
        ArgumentNullException.ThrowIfNull(root);
        BodyPart? current = null;
        foreach (var number in path)
        {
            if (number < 1)
            {
                return null;
            }

            // The entity whose parts are being numbered: the message itself at the top, the
            // encapsulated message below a message/rfc822 part, or a multipart.
            BodyPart container;
            if (current is null)
            {
                container = root;
            }
            else if (current.Kind == BodyPartKind.Message)
            {
                if (current.Message is null)
                {
                    return null;
                }

                container = current.Message;
            }
            else if (current.Kind == BodyPartKind.Multipart)
            {
                container = current;
            }
            else
            {
                return null;
            }

            if (container.Kind == BodyPartKind.Multipart)
            {
                if (number > container.Children.Count)
                {
                    return null;
                }

                current = container.Children[number - 1];
            }
            else
            {
                // RFC 9051 §6.4.5: "Every message has at least one part number. Non-[MIME-IMB]
                // messages, and non-multipart [MIME-IMB] messages with no encapsulated message,
                // only have a part 1."
                if (number != 1)
                {
                    return null;
                }

                current = container;
            }
        }

        return current ?? root;
    }

    /// <summary>
    /// The byte range of a section (RFC 9051 §6.4.5), or false when the section names no part or
    /// the specifier does not apply to it. <paramref name="messageSize"/> is the raw message size.
    /// </summary>
    public static bool TryLocate(MessageIndex index, ReadOnlySpan<int> path, PartSpecifier specifier, out ByteRange range)
    {
        ArgumentNullException.ThrowIfNull(index);
        return TryLocate(index.Body, index.Size, path, specifier, out range);
    }

    /// <inheritdoc cref="TryLocate(MessageIndex, ReadOnlySpan{int}, PartSpecifier, out ByteRange)"/>
    public static bool TryLocate(BodyPart root, long messageSize, ReadOnlySpan<int> path, PartSpecifier specifier, out ByteRange range)
    {
        ArgumentNullException.ThrowIfNull(root);
        range = default;
        if (path.IsEmpty)
        {
            switch (specifier)
            {
                case PartSpecifier.None:
                    range = new ByteRange(0, messageSize);
                    return true;
                case PartSpecifier.Header:
                    range = new ByteRange(root.Offset, root.HeaderLength);
                    return true;
                case PartSpecifier.Text:
                    range = new ByteRange(root.BodyOffset, messageSize - root.BodyOffset);
                    return true;
                default:
                    // MIME needs a part number.
                    return false;
            }
        }

        var part = FindPart(root, path);
        if (part is null)
        {
            return false;
        }

        switch (specifier)
        {
            case PartSpecifier.None:
                // BODY[1] of a non-multipart message is its body; of a multipart child its body.
                range = new ByteRange(part.BodyOffset, part.BodySize);
                return true;
            case PartSpecifier.Mime:
                // The MIME header of part 1 of a non-multipart message is the message header.
                range = new ByteRange(part.Offset, part.HeaderLength);
                return true;
            case PartSpecifier.Header:
            case PartSpecifier.Text:
                // RFC 9051 §6.4.5: HEADER and TEXT after a part number apply only to message/rfc822
                // parts and refer to the encapsulated message's header and body.
                if (part.Kind != BodyPartKind.Message || part.Message is not { } nested)
                {
                    return false;
                }

                range = specifier == PartSpecifier.Header
                    ? new ByteRange(nested.Offset, nested.HeaderLength)
                    : new ByteRange(nested.BodyOffset, part.End - nested.BodyOffset);
                return true;
            default:
                return false;
        }
    }
}