using System.Text;

using Pochta.LoadGen.Wire;

namespace Pochta.LoadGen.Smtp;

/// <summary>SMTP client primitives over a <see cref="LineClient"/> (RFC 5321 §4.2 reply syntax).</summary>
internal static class SmtpWire
{
    /// <summary>Reads one (possibly multi-line) reply and returns its code.</summary>
    public static async ValueTask<int> ReadReplyAsync(LineClient client, CancellationToken ct, List<string>? lines = null)
    {
        while (true)
        {
            var (code, last) = lines is null
                ? await client.ReadLineAsync(static line => Parse(line), ct)
                : await client.ReadLineAsync(line =>
                {
                    lines.Add(Encoding.ASCII.GetString(line.Length > 4 ? line[4..] : []));
                    return Parse(line);
                }, ct);
            if (last)
            {
                return code;
            }
        }
    }

    private static (int Code, bool Last) Parse(ReadOnlySpan<byte> line)
    {
        if (line.Length < 3 || !char.IsAsciiDigit((char)line[0]) || !char.IsAsciiDigit((char)line[1]) || !char.IsAsciiDigit((char)line[2]))
        {
            throw new ProtocolException("malformed SMTP reply");
        }

        int code = ((line[0] - '0') * 100) + ((line[1] - '0') * 10) + (line[2] - '0');
        return (code, line.Length == 3 || line[3] != (byte)'-');
    }

    public static async ValueTask<int> CommandAsync(LineClient client, string command, CancellationToken ct, List<string>? lines = null)
    {
        await client.WriteAsync(command + "\r\n", ct);
        return await ReadReplyAsync(client, ct, lines);
    }

    /// <summary>Connects, reads the greeting, says EHLO, optionally STARTTLS and AUTH PLAIN; returns the EHLO keywords.</summary>
    public static async Task<(LineClient Client, HashSet<string> Extensions)> OpenAsync(
        Endpoint endpoint, bool startTls, string? user, string? password, CancellationToken ct)
    {
        var client = await LineClient.ConnectAsync(endpoint, ct);
        try
        {
            Expect(await ReadReplyAsync(client, ct), 220, "greeting");
            var ehlo = new List<string>();
            Expect(await CommandAsync(client, "EHLO loadgen.test", ct, ehlo), 250, "EHLO");
            if (startTls)
            {
                Expect(await CommandAsync(client, "STARTTLS", ct), 220, "STARTTLS");
                await client.StartTlsAsync(endpoint, ct);
                ehlo.Clear();
                Expect(await CommandAsync(client, "EHLO loadgen.test", ct, ehlo), 250, "EHLO after STARTTLS");
            }

            var extensions = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (var line in ehlo.Skip(1))
            {
                int space = line.IndexOf(' ', StringComparison.Ordinal);
                extensions.Add(space < 0 ? line : line[..space]);
            }

            if (user is not null)
            {
                var token = Convert.ToBase64String(Encoding.UTF8.GetBytes("\0" + user + "\0" + (password ?? "")));
                Expect(await CommandAsync(client, "AUTH PLAIN " + token, ct), 235, "AUTH");
            }

            return (client, extensions);
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    public static void Expect(int code, int expected, string what)
    {
        if (code != expected)
        {
            throw new ProtocolException($"{what}: server replied {code}, expected {expected}");
        }
    }
}