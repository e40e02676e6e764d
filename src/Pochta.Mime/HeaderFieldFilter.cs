using System.Buffers;
using System.Text;

namespace Pochta.Mime;

/// <summary>BODY[HEADER.FIELDS (...)] and BODY[HEADER.FIELDS.NOT (...)] (RFC 9051 §6.4.5):
/// selects whole header fields (with their folded continuation lines) from a header block.</summary>
public static class HeaderFieldFilter
{
    /// <summary>
    /// Writes the fields of <paramref name="header"/> (a header block as located by
    /// <see cref="PartSpecifier.Header"/> or <see cref="PartSpecifier.Mime"/>) whose names are
    /// (or with <paramref name="exclude"/>, are not) in <paramref name="names"/>, compared
    /// case-insensitively, followed by the blank line that ends a header. Field bytes are copied
    /// as received.
    /// </summary>
    public static void Filter(ReadOnlySpan<byte> header, IReadOnlyCollection<string> names, bool exclude, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(names);
        ArgumentNullException.ThrowIfNull(output);
        var selecting = false;
        var rest = header;
        while (!rest.IsEmpty)
        {
            var eol = rest.IndexOf((byte)'\n');
            var line = eol < 0 ? rest : rest[..(eol + 1)];
            rest = eol < 0 ? [] : rest[(eol + 1)..];
            var content = line.TrimEnd("\r\n"u8);
            if (content.IsEmpty)
            {
                // The blank line ending the header block.
                break;
            }

            if (line[0] is not ((byte)' ' or (byte)'\t'))
            {
                var colon = content.IndexOf((byte)':');
                var name = colon < 0 ? content : content[..colon].TrimEnd(" \t"u8);
                selecting = colon > 0 && Contains(names, name) != exclude;
            }

            if (selecting)
            {
                output.Write(content);
                output.Write("\r\n"u8);
            }
        }

        output.Write("\r\n"u8);
    }

    private static bool Contains(IReadOnlyCollection<string> names, ReadOnlySpan<byte> name)
    {
        foreach (var candidate in names)
        {
            if (candidate.Length == name.Length && Ascii.EqualsIgnoreCase(name, candidate))
            {
                return true;
            }
        }

        return false;
    }
}