using System.Text;

using Pochta.Imap.Tests.Support;
using Pochta.Testing;

namespace Pochta.Imap.Tests;

/// <summary>
/// Mutated commands sent to a real session over the SQLite store, in the selected state of a
/// mailbox with messages: whatever parses must be answered without an internal error
/// (<c>NO [SERVERBUG]</c> is what a handler's unexpected exception becomes), and the session must
/// end at EOF with nothing the host would log as a failure (an I/O error is a client gone away). The state carries over from case to case (flags, copies, expunges,
/// mailboxes), as on a real account; a fixed seed keeps the run identical.
/// </summary>
public sealed class SessionFuzzTests : IAsyncLifetime
{
    private const int Cases = 1500;

    private static readonly string[] Extra =
    [
        "a STORE 1:2 +FLAGS (\\Seen $Junk)\r\n", "a UID STORE 1:* -FLAGS.SILENT (\\Flagged)\r\n",
        "a STORE 2 (UNCHANGEDSINCE 5) FLAGS (\\Deleted)\r\n", "a UID COPY 1:3 Trash\r\n", "a MOVE 1 Archive\r\n",
        "a UID MOVE 2:* Trash\r\n", "a EXPUNGE\r\n", "a UID EXPUNGE 1:2\r\n", "a SORT (REVERSE DATE SUBJECT) UTF-8 ALL\r\n",
        "a THREAD REFERENCES UTF-8 ALL\r\n", "a THREAD ORDEREDSUBJECT UTF-8 SINCE 1-Jan-2000\r\n",
        "a UID SEARCH RETURN (SAVE) UNSEEN\r\n", "a FETCH $ (FLAGS)\r\n", "a FETCH 1:* (BODY.PEEK[1]<2.3> BINARY[2] RFC822.SIZE)\r\n",
        "a FETCH 1 (BODY[HEADER.FIELDS (Subject From)] BODYSTRUCTURE ENVELOPE)\r\n", "a UID FETCH 1:* (UID) (CHANGEDSINCE 1 VANISHED)\r\n",
        "a STATUS INBOX (MESSAGES UIDNEXT UNSEEN HIGHESTMODSEQ SIZE DELETED-STORAGE)\r\n", "a GETQUOTAROOT INBOX\r\n",
        "a CREATE Fuzz/Sub\r\n", "a RENAME Fuzz Fuzz2\r\n", "a DELETE Fuzz2/Sub\r\n", "a SUBSCRIBE Fuzz\r\n",
        "a LIST \"\" \"*\" RETURN (SPECIAL-USE STATUS (MESSAGES))\r\n", "a NAMESPACE\r\n", "a CHECK\r\n", "a UNSELECT\r\n",
        "a CLOSE\r\n", "a SELECT Trash (CONDSTORE)\r\n", "a EXAMINE INBOX\r\n", "a ENABLE QRESYNC UTF8=ACCEPT\r\n",
        "a SEARCH CHARSET UTF-8 TEXT \"héllo\" OR SEEN NOT 1:3\r\n", "a SEARCH BODY {5}\r\nhello\r\n",
        "a APPEND INBOX (\\Seen) \"01-Dec-2026 12:00:00 +0100\" {23}\r\nSubject: x\r\n\r\nbody\r\n\r\n",
    ];

    private static readonly string[] Messages =
    [
        "From: Ann <ann@example.net>\r\nTo: alice@example.test\r\nSubject: hello\r\nDate: Tue, 1 Dec 2026 10:00:00 +0000\r\nMessage-ID: <a@x>\r\n\r\nhello world\r\n",
        "From: bob@example.net\r\nSubject: Re: hello\r\nIn-Reply-To: <a@x>\r\nReferences: <a@x>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nh=C3=A9llo\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nAAECAwQ=\r\n--b--\r\n",
        "Subject: =?utf-8?B?0L/RgNC40LLQtdGC?=\r\n\r\n.\r\n..\r\n",
    ];

    private static readonly string[] Numbers = ["0", "1", "2", "3", "*", "1:*", "3:1", "$", "2,1", "4294967295", "4294967296", "99999999999999999999", "-1", "1.2.3", "1:"];

    private ImapHarness _harness = null!;

    public async Task InitializeAsync()
    {
        _harness = await ImapHarness.CreateAsync(new ImapOptions { FailedLoginDelay = TimeSpan.Zero });
        foreach (var m in Messages)
        {
            await _harness.DeliverAsync(m);
        }
    }

    public async Task DisposeAsync() => await _harness.DisposeAsync();

    [Fact]
    public async Task Mutated_commands_in_the_selected_state_never_cause_an_internal_error()
    {
        var seeds = ReaderTests.ValidInputs.Select(row => (string)row[0]).Concat(Extra).Select(Encoding.UTF8.GetBytes).ToArray();
        var random = new Random(20261202);
        for (var i = 0; i < Cases; i++)
        {
            if (i % 50 == 0)
            {
                // Keep something to work on: expunges and moves empty the INBOX over time.
                await _harness.DeliverAsync(Messages[i / 50 % Messages.Length]);
            }

            var seed = seeds[random.Next(seeds.Length)];
            var input = random.Next(4) switch
            {
                0 or 1 => Mutations.Renumber(seed, random, Numbers),
                2 => Mutations.Mutate(seed, random, seeds),
                _ => Mutations.Mutate(Mutations.Renumber(seed, random, Numbers), random, seeds),
            };
            var client = await _harness.LoginAsync("INBOX");
            await client.SendBytesAsync(input);
            await client.SendAsync("\r\nZZZ NOOP\r\n");
            List<string> lines = [];
            try
            {
                lines = await client.FinishAsync();
            }
            catch (IOException)
            {
                // What the host takes for a client gone away (e.g. bytes after COMPRESS that are
                // not DEFLATE): the session ended, nothing to report.
            }
            catch (Exception e)
            {
                Assert.Fail($"case {i}: the session did not end cleanly ({e.GetType().Name}: {e.Message}) for input {Mutations.Show(input)}");
                return;
            }

            var bug = lines.FirstOrDefault(l => l.Contains("[SERVERBUG]", StringComparison.Ordinal));
            Assert.True(bug is null, $"case {i}: {bug} for input {Mutations.Show(input)}");
        }
    }
}