using System.Text;

using Pochta.Pop3.Tests.Protocol;
using Pochta.Testing;

namespace Pochta.Pop3.Tests.Session;

/// <summary>
/// Sessions of mutated commands on the real store (logged in or not, several commands pipelined):
/// no command ends in the internal-error reply <c>-ERR [SYS/TEMP]</c>, the maildrop lock is
/// always released (no <c>[IN-USE]</c> for the next, sequential session), every response line
/// ends with CRLF (TestClient asserts it), and the session ends at EOF without an exception the
/// host would log as a failure. A fixed seed keeps the run identical.
/// </summary>
public sealed class FuzzTests : IAsyncLifetime
{
    private const int Cases = 500;

    private static readonly string[] Extra =
    [
        "RETR 1\r\n", "RETR 2\r\nRETR 3\r\n", "TOP 2 1\r\n", "TOP 1 0\r\nDELE 1\r\nLIST 1\r\n", "DELE 2\r\nRSET\r\nSTAT\r\n",
        "UIDL 3\r\n", "LIST\r\n", "DELE 1\r\nDELE 1\r\nRETR 1\r\n", "AUTH PLAIN AGFsaWNlQGV4YW1wbGUudGVzdABzZWNyZXQ=\r\n",
        "AUTH PLAIN\r\nAGFsaWNlQGV4YW1wbGUudGVzdABzZWNyZXQ=\r\n", "AUTH LOGIN\r\nYWxpY2VAZXhhbXBsZS50ZXN0\r\nc2VjcmV0\r\n",
        "AUTH SCRAM-SHA-256\r\n*\r\n", "UTF8\r\nUSER alice@example.test\r\n", "CAPA\r\n", "NOOP\r\n",
    ];

    private static readonly string[] Numbers = ["0", "1", "2", "3", "4", "4294967295", "4294967296", "99999999999999999999", "-1", "2147483648"];

    private Pop3Harness _harness = null!;

    public async Task InitializeAsync()
    {
        _harness = await Pop3Harness.CreateAsync();
        await RefillAsync();
    }

    public async Task DisposeAsync() => await _harness.DisposeAsync();

    [Fact]
    public async Task Mutated_sessions_never_cause_an_internal_error_and_always_release_the_maildrop()
    {
        var seeds = ((IEnumerable<object[]>)ReaderTests.Valid).Select(row => (string)row[0]).Concat(Extra).Select(Encoding.UTF8.GetBytes).ToArray();
        var random = new Random(20261204);
        for (var i = 0; i < Cases; i++)
        {
            if (i % 25 == 0)
            {
                await RefillAsync();
            }

            var input = new List<byte>();
            if (random.Next(4) != 0)
            {
                input.AddRange("USER alice@example.test\r\nPASS secret\r\n"u8.ToArray());
            }

            for (var n = 1 + random.Next(3); n > 0; n--)
            {
                var seed = seeds[random.Next(seeds.Length)];
                input.AddRange(random.Next(3) switch
                {
                    0 => seed,
                    1 => Mutations.Renumber(seed, random, Numbers),
                    _ => Mutations.Mutate(seed, random, seeds),
                });
            }

            if (random.Next(3) != 0)
            {
                input.AddRange("\r\nQUIT\r\n"u8.ToArray());
            }

            var bytes = input.ToArray();
            var client = _harness.Connect();
            await client.SendBytesAsync(bytes);
            await client.CloseOutputAsync();
            var lines = new List<string>();
            try
            {
                while (await client.ReadLineAsync() is { } line)
                {
                    lines.Add(line);
                }

                await client.Session.WaitAsync(TimeSpan.FromSeconds(20));
            }
            catch (IOException)
            {
                // A client gone away, for the host: nothing it would report.
            }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException)
            {
                Assert.Fail($"case {i}: the session did not end cleanly ({e.GetType().Name}: {e.Message}) for input {Mutations.Show(bytes)}");
            }

            var bad = lines.FirstOrDefault(l => l.StartsWith("-ERR [SYS/TEMP]", StringComparison.Ordinal) || l.StartsWith("-ERR [IN-USE]", StringComparison.Ordinal));
            Assert.True(bad is null, $"case {i}: {bad} for input {Mutations.Show(bytes)}");
        }
    }

    private async Task RefillAsync()
    {
        for (var k = 0; k < 3; k++)
        {
            await _harness.DeliverAsync(_harness.AliceInbox, Pop3Harness.Message("fuzz " + k, ".leading dot\r\nline\r\n..\r\n"));
        }
    }
}