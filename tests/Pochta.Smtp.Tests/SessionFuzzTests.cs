using System.Text;
using System.Text.RegularExpressions;

using Microsoft.Extensions.Time.Testing;

using Pochta.Sasl;
using Pochta.Smtp.Tests.Protocol;
using Pochta.Smtp.Tests.Support;
using Pochta.Storage;
using Pochta.Testing;

namespace Pochta.Smtp.Tests;

/// <summary>
/// Sessions of mutated commands against the real store and authenticator, as a broken or
/// hostile client would send them (pipelined, with whole transactions, AUTH, BDAT): every reply
/// is a well-formed reply (RFC 5321 §4.2: three digits, then space or hyphen), and the session
/// ends at EOF without an exception the host would log as a failure. A fixed seed keeps the run
/// identical; a failure prints the input that caused it.
/// </summary>
public sealed partial class SessionFuzzTests : SqliteStoreTest
{
    private const int Cases = 400;

    private static readonly string[] Transactions =
    [
        "MAIL FROM:<a@remote.example>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\nSubject: x\r\n\r\nbody\r\n..dot\r\n.\r\n",
        "MAIL FROM:<a@remote.example> BODY=BINARYMIME\r\nRCPT TO:<bob@example.org>\r\nBDAT 12\r\nSubject: b\r\n\r\nBDAT 3 LAST\r\nxyz",
        "MAIL FROM:<> SIZE=100\r\nRCPT TO:<alice@example.org> NOTIFY=FAILURE ORCPT=rfc822;alice@example.org\r\nRCPT TO:<nobody@example.org>\r\nRCPT TO:<x@elsewhere.example>\r\nDATA\r\n\r\n.\r\n",
        "AUTH PLAIN AGFsaWNlQGV4YW1wbGUub3JnAGFsaWNlLXB3\r\nMAIL FROM:<alice@example.org>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\nFrom: alice@example.org\r\n\r\nhi\r\n.\r\n",
        "AUTH LOGIN\r\nYWxpY2VAZXhhbXBsZS5vcmc=\r\nd3Jvbmc=\r\n",
        "MAIL FROM:<a@remote.example>\r\nRCPT TO:<alice@example.org>\r\nRSET\r\nRCPT TO:<alice@example.org>\r\nDATA\r\n",
    ];

    private protected override async Task SeedAsync(IDirectoryStore directory, CancellationToken ct)
    {
        // Fewer iterations than the authenticator's: the first good AUTH PLAIN also rehashes.
        await directory.AddAccountAsync("alice@example.org", Credential("alice-pw"), 0, ct);
        await directory.AddAccountAsync("bob@example.org", Credential("bob-pw"), 2000, ct);
    }

    [Fact]
    public async Task Mutated_sessions_get_well_formed_replies_and_end_cleanly()
    {
        var seeds = ((IEnumerable<object[]>)CommandReaderTests.ValidLines).Select(row => (string)row[0]).Concat(Transactions).Select(Encoding.UTF8.GetBytes).ToArray();
        var random = new Random(20261203);
        for (var i = 0; i < Cases; i++)
        {
            var input = new List<byte>("EHLO fuzz.example\r\n"u8.ToArray());
            for (var n = 1 + random.Next(4); n > 0; n--)
            {
                var seed = seeds[random.Next(seeds.Length)];
                input.AddRange(random.Next(10) < 7 ? Mutations.Mutate(seed, random, seeds) : seed);
            }

            input.AddRange("\r\nQUIT\r\n"u8.ToArray());
            var bytes = input.ToArray();
            var h = SmtpHarness.Start(Store, Auth, new HarnessOptions { Remote = random.Next(2) == 0 ? "127.0.0.1" : "192.0.2.10", Protocol = random.Next(2) == 0 ? Core.MailProtocol.Submission : Core.MailProtocol.Smtp, Configure = NoDelays });
            await using (h)
            {
                await h.SendAsync(bytes);
                h.CloseClient();
                while (await ReadReplyAsync(h, i, bytes) is { } reply)
                {
                    foreach (var line in reply.Split('\n'))
                    {
                        Assert.True(ReplyLine().IsMatch(line), $"case {i}: reply line \"{line}\" for input {Mutations.Show(bytes)}");
                    }
                }

                try
                {
                    await h.Session.WaitAsync(TimeSpan.FromSeconds(20));
                }
                catch (Exception e) when (e is not (IOException or TimeoutException))
                {
                    Assert.Fail($"case {i}: the session failed ({e.GetType().Name}: {e.Message}) for input {Mutations.Show(bytes)}");
                }
            }
        }

        // The fuzz reached the commit path, and what it committed respects bob's quota.
        var alice = await Store.Directory.FindAccountAsync("alice@example.org", CancellationToken.None);
        var inbox = await Store.Mailboxes.FindMailboxAsync(alice!.Id, "INBOX", CancellationToken.None);
        Assert.NotEmpty(await Store.Mailboxes.ListMessagesAsync(inbox!.Id, CancellationToken.None));
        var bob = await Store.Directory.FindAccountAsync("bob@example.org", CancellationToken.None);
        var usage = await Store.Directory.GetQuotaUsageAsync(bob!.Id, CancellationToken.None);
        Assert.InRange(usage!.UsedBytes, 0, 2000);
    }

    private static async Task<string?> ReadReplyAsync(SmtpHarness h, int i, byte[] bytes)
    {
        try
        {
            return await h.ReadReplyAsync();
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"case {i}: no reply and no close for input {Mutations.Show(bytes)}");
            return null;
        }
    }

    // The harness's clock is fake: a delay on it would never end.
    private static void NoDelays(SmtpOptions options) => options.AuthFailureDelay = TimeSpan.Zero;

    [GeneratedRegex(@"^[2-5][0-9][0-9]([ -].*)?$")]
    private static partial Regex ReplyLine();
}