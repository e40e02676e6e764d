using System.Text;

using MimeKit.Text;

namespace Pochta.Client.Compose;

/// <summary>Renders HTML to readable plain text: text content, line breaks at block elements,
/// no script or style contents. Used to show HTML-only mail and to give HTML mail a plain part.</summary>
internal static class HtmlText
{
    public static string ToPlainText(string html)
    {
        var output = new StringBuilder();
        var tokenizer = new HtmlTokenizer(new StringReader(html)) { DecodeCharacterReferences = true };
        var skipDepth = 0;
        while (tokenizer.ReadNextToken(out var token))
        {
            switch (token)
            {
                case HtmlDataToken data when skipDepth == 0:
                    AppendCollapsed(output, data.Data);
                    break;
                case HtmlTagToken tag:
                    if (tag.Id is HtmlTagId.Script or HtmlTagId.Style or HtmlTagId.Head)
                    {
                        skipDepth = Math.Max(0, skipDepth + (tag.IsEndTag ? -1 : tag.IsEmptyElement ? 0 : 1));
                    }
                    else if (skipDepth == 0)
                    {
                        Break(output, tag);
                    }

                    break;
            }
        }

        return Normalize(output.ToString());
    }

    private static void Break(StringBuilder output, HtmlTagToken tag)
    {
        switch (tag.Id)
        {
            case HtmlTagId.Br:
                TrimTrailingSpace(output);
                output.Append('\n');
                break;
            case HtmlTagId.LI:
                if (!tag.IsEndTag)
                {
                    EnsureNewlines(output, 1);
                    output.Append("* ");
                }

                break;
            case HtmlTagId.P or HtmlTagId.H1 or HtmlTagId.H2 or HtmlTagId.H3 or HtmlTagId.H4 or HtmlTagId.H5 or HtmlTagId.H6
                or HtmlTagId.Table or HtmlTagId.BlockQuote or HtmlTagId.Pre or HtmlTagId.UL or HtmlTagId.OL:
                EnsureNewlines(output, 2);
                break;
            case HtmlTagId.Div or HtmlTagId.TR or HtmlTagId.HR:
                EnsureNewlines(output, 1);
                break;
        }
    }

    private static void EnsureNewlines(StringBuilder output, int count)
    {
        TrimTrailingSpace(output);
        if (output.Length == 0)
        {
            return;
        }

        var trailing = 0;
        while (trailing < output.Length && output[output.Length - 1 - trailing] == '\n')
        {
            trailing++;
        }

        output.Append('\n', Math.Max(0, count - trailing));
    }

    private static void AppendCollapsed(StringBuilder output, string data)
    {
        foreach (var c in data)
        {
            if (char.IsWhiteSpace(c))
            {
                if (output.Length > 0 && output[^1] is not (' ' or '\n'))
                {
                    output.Append(' ');
                }
            }
            else
            {
                output.Append(c);
            }
        }
    }

    private static void TrimTrailingSpace(StringBuilder output)
    {
        while (output.Length > 0 && output[^1] == ' ')
        {
            output.Length--;
        }
    }

    private static string Normalize(string text)
    {
        // At most one blank line in a row; no leading or trailing blank lines.
        var builder = new StringBuilder(text.Length);
        var newlines = 0;
        foreach (var c in text.Trim())
        {
            if (c == '\n')
            {
                newlines++;
                if (newlines <= 2)
                {
                    builder.Append(c);
                }
            }
            else
            {
                newlines = 0;
                builder.Append(c);
            }
        }

        return builder.ToString();
    }
}