using Pochta.Imap.Protocol;
using Pochta.Imap.Search;

namespace Pochta.Imap.Handlers;

/// <summary>RFC 9051 §6.4.4 SEARCH / UID SEARCH with RFC 4731 ESEARCH return options (MIN MAX COUNT
/// ALL), RFC 5182 SAVE ($), RFC 7162 MODSEQ. IMAP4rev2 sessions always get ESEARCH.</summary>
internal sealed class SearchHandler : CommandHandler<SearchCommand>
{
    protected override async Task<CommandResult> ExecuteAsync(ImapSession session, SearchCommand command, CancellationToken cancellationToken)
    {
        if (!SearchEvaluator.IsSupportedCharset(command.Charset))
        {
            return CommandResult.No("Unsupported charset", "BADCHARSET (UTF-8 US-ASCII)");
        }

        var options = command.ReturnOptions;
        if (options is not null && options.Any(o => o is not ("MIN" or "MAX" or "COUNT" or "ALL" or "SAVE")))
        {
            return CommandResult.Bad("Unknown search return option");
        }

        var usesModSeq = SearchEvaluator.UsesModSeq(command.Criteria);
        if (usesModSeq)
        {
            session.Enable(Enabled.CondStore);
        }

        var matches = await SearchEvaluator.RunAsync(session, command.Criteria, false, cancellationToken);
        var numbers = matches.Select(m => command.Uid ? m.Entry.Uid : (uint)m.Seq).ToList();
        var highestModSeq = matches.Count > 0 ? matches.Max(m => m.Entry.ModSeq) : 0;
        var w = session.Writer;

        if (options is null && !session.Rev2)
        {
            // RFC 3501 §7.2.5 SEARCH response; RFC 7162 §3.1.5 adds (MODSEQ n).
            w.Untagged().Raw("SEARCH"u8);
            foreach (var n in numbers)
            {
                w.Space().Number((ulong)n);
            }

            if (usesModSeq && numbers.Count > 0)
            {
                w.Raw(" (MODSEQ "u8).Number(highestModSeq).Raw(")"u8);
            }

            w.EndLine();
            return CommandResult.Ok(command.Name + " completed");
        }

        // RFC 4731 §3.1: RETURN () means RETURN (ALL); rev2 without RETURN likewise.
        var opts = options is null || options.Count == 0 ? ["ALL"] : options;
        var min = opts.Contains("MIN");
        var max = opts.Contains("MAX");
        var all = opts.Contains("ALL");
        var count = opts.Contains("COUNT");
        if (opts.Contains("SAVE"))
        {
            // RFC 5182 §2.4: with only MIN and/or MAX, only those are saved.
            var uids = matches.Select(m => m.Entry.Uid).ToList();
            session.SavedSearch = (min || max) && !all && !count && uids.Count > 0
                ? [.. new[] { min ? uids[0] : 0u, max ? uids[^1] : 0u }.Where(u => u != 0).Distinct()]
                : uids;
            if (!min && !max && !all && !count)
            {
                // SAVE alone: no ESEARCH response.
                return CommandResult.Ok(command.Name + " completed");
            }
        }

        w.Untagged().Raw("ESEARCH (TAG "u8).QuotedOrLiteral(command.Tag).Raw(")"u8);
        if (command.Uid)
        {
            w.Raw(" UID"u8);
        }

        if (numbers.Count > 0)
        {
            if (min)
            {
                w.Raw(" MIN "u8).Number((ulong)numbers[0]);
            }

            if (max)
            {
                w.Raw(" MAX "u8).Number((ulong)numbers[^1]);
            }

            if (all)
            {
                w.Raw(" ALL "u8).Ascii(SequenceSet.Format(numbers));
            }
        }

        if (count)
        {
            w.Raw(" COUNT "u8).Number((long)numbers.Count);
        }

        if (usesModSeq && numbers.Count > 0)
        {
            w.Raw(" MODSEQ "u8).Number(highestModSeq);
        }

        w.EndLine();
        return CommandResult.Ok(command.Name + " completed");
    }
}