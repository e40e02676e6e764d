using System.Diagnostics;
using System.Globalization;
using System.Text;

using Pochta.LoadGen.Common;
using Pochta.LoadGen.Wire;

namespace Pochta.LoadGen.Smtp;

internal sealed record SmtpLoadOptions(
    Endpoint Endpoint,
    int Sessions,
    int Messages,
    int Size,
    bool StartTls,
    string? User,
    string? Password,
    string From,
    string ToPattern,
    int Recipients,
    DeliveryWait? Wait,
    TimeSpan Timeout,
    int Domains = 1);

/// <summary>
/// N concurrent sessions share M messages; each session keeps its connection and sends
/// MAIL/RCPT/DATA (pipelined when the server offers PIPELINING, RFC 2920), then the body.
/// Latency is MAIL FROM sent → final 250 after the body. Throughput is counted twice: until the
/// last 250 (accepted) and, with a delivery wait, until every message is in its mailbox.
/// </summary>
internal static class SmtpLoad
{
    public static async Task<Summary> RunAsync(SmtpLoadOptions o, CancellationToken outer)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(outer);
        timeout.CancelAfter(o.Timeout);
        var ct = timeout.Token;

        var recipients = Enumerable.Range(0, o.Recipients).Select(i => Pattern.Expand(o.ToPattern, i, o.Domains)).ToArray();
        var template = MessageFactory.Build(0, o.Size, recipients[0], new Random(42));
        int idOffset = IndexOf(template, "Message-ID: <"u8) + "Message-ID: <".Length;

        long baseline = o.Wait is null ? 0 : await o.Wait.CountAsync(ct);
        int next = -1;
        int accepted = 0, rejected = 0, sessionErrors = 0;
        var latencies = new Latency[o.Sessions];
        var errors = new List<string>();
        long start = Stopwatch.GetTimestamp();

        var workers = Enumerable.Range(0, o.Sessions).Select(async s =>
        {
            var latency = latencies[s] = new Latency();
            var message = new byte[template.Length + 3];
            template.CopyTo(message, 0);
            ".\r\n"u8.CopyTo(message.AsSpan(template.Length));
            try
            {
                var (client, extensions) = await SmtpWire.OpenAsync(o.Endpoint, o.StartTls, o.User, o.Password, ct);
                await using var _ = client;
                bool pipelining = extensions.Contains("PIPELINING");
                string sizeParam = extensions.Contains("SIZE") ? " SIZE=" + message.Length.ToString(CultureInfo.InvariantCulture) : "";
                while (true)
                {
                    int index = Interlocked.Increment(ref next);
                    if (index >= o.Messages)
                    {
                        break;
                    }

                    Encoding.ASCII.GetBytes(index.ToString("D10", CultureInfo.InvariantCulture), message.AsSpan(idOffset));
                    var rcpt = recipients[index % recipients.Length];
                    long t0 = Stopwatch.GetTimestamp();
                    int mail, to, data;
                    if (pipelining)
                    {
                        await client.WriteAsync($"MAIL FROM:<{o.From}>{sizeParam}\r\nRCPT TO:<{rcpt}>\r\nDATA\r\n", ct);
                        mail = await SmtpWire.ReadReplyAsync(client, ct);
                        to = await SmtpWire.ReadReplyAsync(client, ct);
                        data = await SmtpWire.ReadReplyAsync(client, ct);
                    }
                    else
                    {
                        mail = await SmtpWire.CommandAsync(client, $"MAIL FROM:<{o.From}>{sizeParam}", ct);
                        to = mail == 250 ? await SmtpWire.CommandAsync(client, $"RCPT TO:<{rcpt}>", ct) : 0;
                        data = to == 250 ? await SmtpWire.CommandAsync(client, "DATA", ct) : 0;
                    }

                    if (data != 354)
                    {
                        Interlocked.Increment(ref rejected);
                        Record(errors, $"MAIL {mail} RCPT {to} DATA {data}");
                        await SmtpWire.CommandAsync(client, "RSET", ct);
                        continue;
                    }

                    await client.WriteAsync(message, ct);
                    int final = await SmtpWire.ReadReplyAsync(client, ct);
                    if (final == 250)
                    {
                        latency.Add(t0);
                        Interlocked.Increment(ref accepted);
                    }
                    else
                    {
                        Interlocked.Increment(ref rejected);
                        Record(errors, $"end of DATA {final}");
                    }
                }

                await SmtpWire.CommandAsync(client, "QUIT", ct);
            }
            catch (Exception e) when (NetErrors.IsConnectionFailure(e))
            {
                Interlocked.Increment(ref sessionErrors);
                Record(errors, e.GetType().Name + ": " + e.Message);
            }
        }).ToArray();
        await Task.WhenAll(workers);
        double acceptSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;

        double? deliveredSeconds = null;
        long delivered = 0;
        if (o.Wait is not null)
        {
            delivered = await o.Wait.UntilAsync(baseline + accepted, ct) - baseline;
            deliveredSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        }

        var summary = new Summary("smtp")
            .Add("server", $"{o.Endpoint.Host}:{o.Endpoint.Port}")
            .Add("sessions", o.Sessions)
            .Add("size_bytes", template.Length)
            .Add("accepted", accepted)
            .Add("rejected", rejected)
            .Add("session_errors", sessionErrors)
            .Add("accept_seconds", Math.Round(acceptSeconds, 3))
            .Add("accepted_per_s", Math.Round(accepted / acceptSeconds, 1));
        if (deliveredSeconds is { } ds)
        {
            summary.Add("delivered", delivered)
                .Add("delivered_seconds", Math.Round(ds, 3))
                .Add("delivered_per_s", Math.Round(delivered / ds, 1));
        }

        summary.Add("latency", Latency.Merge(latencies.Where(l => l is not null)));
        if (errors.Count > 0)
        {
            summary.Add("first_error", errors[0]);
        }

        return summary;
    }

    internal static void Record(List<string> errors, string error)
    {
        lock (errors)
        {
            if (errors.Count < 10)
            {
                errors.Add(error);
            }
        }
    }

    private static int IndexOf(byte[] haystack, ReadOnlySpan<byte> needle) => haystack.AsSpan().IndexOf(needle);
}