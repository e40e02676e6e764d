using System.Text;
using System.Text.Unicode;

namespace Pochta.Sasl;

internal static class SaslText
{
    /// <summary>Decodes UTF-8, refusing ill-formed sequences (RFC 4616 §2, RFC 5802 §5.1 require UTF-8).</summary>
    public static bool TryDecodeUtf8(ReadOnlySpan<byte> bytes, out string value)
    {
        if (!Utf8.IsValid(bytes))
        {
            value = string.Empty;
            return false;
        }

        value = Encoding.UTF8.GetString(bytes);
        return true;
    }
}