using System.CommandLine;

using Pochta.LoadGen.Common;
using Pochta.LoadGen.Wire;

namespace Pochta.LoadGen.Smtp;

/// <summary>
/// <c>relay</c>: relay throughput (issue 6). The same sessions as <c>smtp</c>, with every
/// message addressed to one remote recipient, spread round-robin over <c>--domains</c> remote
/// domains (<c>{n}</c> = recipient index, <c>{k}</c> = its domain index), submitted to a server
/// that relays for this client, and timed until the remote sinks (<c>smtp-sink -c</c>, whose
/// counter output files are given with <c>--sink-log</c>) have received every accepted message.
/// </summary>
internal static class RelayCommand
{
    public static Command Create()
    {
        var host = new Option<string>("--host") { Description = "Server address", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port") { Description = "Server port (a listener that relays for this client: trusted network or --user)", DefaultValueFactory = _ => 25 };
        var sessions = new Option<int>("--sessions") { Description = "Concurrent submission sessions", DefaultValueFactory = _ => 8 };
        var messages = new Option<int>("--messages") { Description = "Messages in total, shared by the sessions", DefaultValueFactory = _ => 1000 };
        var size = new Option<string>("--size") { Description = "Message size, e.g. 5k", DefaultValueFactory = _ => "5k" };
        var user = new Option<string?>("--user") { Description = "AUTH PLAIN user (submission)" };
        var password = new Option<string?>("--password") { Description = "AUTH PLAIN password" };
        var from = new Option<string>("--from") { Description = "Envelope sender", DefaultValueFactory = _ => "loadgen@sender.test" };
        var to = new Option<string>("--to") { Description = "Recipient pattern: {n} = recipient index, {k} = n mod domains", DefaultValueFactory = _ => "r{n}@d{k}.bench-remote.test" };
        var rcptCount = new Option<int>("--rcpt-count") { Description = "Distinct recipients, one per message, round-robin", DefaultValueFactory = _ => 100 };
        var domains = new Option<int>("--domains") { Description = "Remote domains ({k} = 0..domains-1)", DefaultValueFactory = _ => 10 };
        var sinkLogs = new Option<string[]>("--sink-log") { Description = "Counter output of an smtp-sink -c (repeat: one per sink)", Required = true, AllowMultipleArgumentsPerToken = true };
        var timeout = new Option<string>("--timeout") { Description = "Give up after, e.g. 5m", DefaultValueFactory = _ => "10m" };
        var json = new Option<bool>("--json") { Description = "Print the summary as one JSON object" };
        var cmd = new Command("relay", "Relay throughput: messages/s from submission until the remote sinks have received every message")
        {
            host, port, sessions, messages, size, user, password, from, to, rcptCount, domains, sinkLogs, timeout, json,
        };
        cmd.SetAction(async (r, ct) =>
        {
            var endpoint = new Endpoint(r.GetValue(host)!, r.GetValue(port), false, null);
            var wait = new SinkWait(r.GetValue(sinkLogs)!);
            string timeoutText = r.GetValue(timeout)!;
            var limit = timeoutText.EndsWith('m')
                ? TimeSpan.FromMinutes(double.Parse(timeoutText[..^1], System.Globalization.CultureInfo.InvariantCulture))
                : TimeSpan.FromSeconds(double.Parse(timeoutText.TrimEnd('s'), System.Globalization.CultureInfo.InvariantCulture));
            var summary = await SmtpLoad.RunAsync(new SmtpLoadOptions(
                endpoint, r.GetValue(sessions), r.GetValue(messages), MessageFactory.ParseSize(r.GetValue(size)!), false,
                r.GetValue(user), r.GetValue(password), r.GetValue(from)!, r.GetValue(to)!, r.GetValue(rcptCount), wait, limit, r.GetValue(domains)), ct);
            summary.Add("domains", r.GetValue(domains)).Add("sinks", r.GetValue(sinkLogs)!.Length);
            summary.Print(r.GetValue(json));
            return 0;
        });
        return cmd;
    }
}