using System.Text;

using Pochta.Client.Cli;
using Pochta.Client.Local;

namespace Pochta.Client.Tests;

public class Pop3FetcherTests
{
    /// <summary>A POP3 maildrop with RFC 1939 semantics: DELE marks, QUIT removes.</summary>
    private sealed class FakeMaildrop
    {
        public List<(string Uid, byte[] Bytes)> Messages { get; } = [];

        public bool SupportsUids { get; set; } = true;

        public void Add(string uid, string text) => Messages.Add((uid, Encoding.ASCII.GetBytes(text)));

        public Session Open(Func<int, bool>? failOpen = null, UidlState? watch = null, string? maildirNew = null) =>
            new(this, failOpen, watch, maildirNew);

        internal sealed class Session(FakeMaildrop drop, Func<int, bool>? failOpen, UidlState? watch, string? maildirNew) : IPop3Mailbox
        {
            private readonly List<(string Uid, byte[] Bytes)> _snapshot = [.. drop.Messages];
            private readonly HashSet<int> _marked = [];

            public List<string> Log { get; } = [];

            public int Count => _snapshot.Count;

            public bool SupportsUids => drop.SupportsUids;

            public Task<IReadOnlyList<string>> GetUidsAsync(CancellationToken cancellationToken) =>
                Task.FromResult<IReadOnlyList<string>>(_snapshot.Select(m => m.Uid).ToList());

            public Task<Stream> OpenAsync(int index, CancellationToken cancellationToken)
            {
                if (failOpen?.Invoke(index) == true)
                {
                    throw new IOException("connection lost");
                }

                Log.Add("RETR " + _snapshot[index].Uid);
                return Task.FromResult<Stream>(new MemoryStream(_snapshot[index].Bytes));
            }

            public Task DeleteAsync(int index, CancellationToken cancellationToken)
            {
                // The message must be durable locally and recorded before DELE.
                if (watch is not null)
                {
                    Assert.True(watch.Contains(_snapshot[index].Uid), "DELE before the UIDL was recorded");
                }

                if (maildirNew is not null)
                {
                    var expected = _snapshot[index].Bytes;
                    Assert.Contains(Directory.GetFiles(maildirNew), f => File.ReadAllBytes(f).AsSpan().SequenceEqual(expected));
                }

                Log.Add("DELE " + _snapshot[index].Uid);
                _marked.Add(index);
                return Task.CompletedTask;
            }

            public Task CommitAsync(CancellationToken cancellationToken)
            {
                Log.Add("QUIT");
                var gone = _marked.Select(i => _snapshot[i]).ToList();
                drop.Messages.RemoveAll(m => gone.Any(g => g.Uid == m.Uid));
                return Task.CompletedTask;
            }
        }
    }

    private static async Task<(Pop3Fetcher Fetcher, MaildirWriter Maildir, UidlState State)> CreateAsync(TempDirectory dir)
    {
        var maildir = new MaildirWriter(dir.Combine("Maildir"), TimeProvider.System);
        var state = await UidlState.LoadAsync(dir.Combine("uidl"), CancellationToken.None);
        return (new Pop3Fetcher(maildir, state), maildir, state);
    }

    private static string[] MaildirContents(MaildirWriter maildir) =>
        Directory.GetFiles(maildir.NewDirectory).Select(File.ReadAllText).Order(StringComparer.Ordinal).ToArray();

    [Fact]
    public async Task Fetch_DownloadsRecordsThenDeletes_AndTheServerIsEmptied()
    {
        using var dir = new TempDirectory();
        var (fetcher, maildir, state) = await CreateAsync(dir);
        var drop = new FakeMaildrop();
        drop.Add("a1", "Subject: 1\r\n\r\none\r\n");
        drop.Add("b2", "Subject: 2\r\n\r\ntwo\r\n");
        var session = drop.Open(watch: state, maildirNew: maildir.NewDirectory);

        var result = await fetcher.FetchAsync(session, keep: false, null, CancellationToken.None);

        Assert.Equal(2, result.Downloaded);
        Assert.Equal(2, result.Deleted);
        Assert.Equal(["RETR a1", "DELE a1", "RETR b2", "DELE b2", "QUIT"], session.Log);
        Assert.Empty(drop.Messages);
        Assert.Equal(2, MaildirContents(maildir).Length);
        Assert.Equal(0, state.Count); // pruned once QUIT committed the deletions
    }

    [Fact]
    public async Task InterruptedFetch_ResumesWithoutLossOrDuplicates()
    {
        using var dir = new TempDirectory();
        var (fetcher, maildir, state) = await CreateAsync(dir);
        var drop = new FakeMaildrop();
        for (var i = 1; i <= 4; i++)
        {
            drop.Add($"m{i}", $"Subject: {i}\r\n\r\nbody {i}\r\n");
        }

        // The connection drops while the third message downloads: no QUIT, nothing deleted.
        var broken = drop.Open(failOpen: index => index == 2);
        await Assert.ThrowsAsync<IOException>(() => fetcher.FetchAsync(broken, keep: false, null, CancellationToken.None));
        Assert.Equal(4, drop.Messages.Count);
        Assert.Equal(2, MaildirContents(maildir).Length);

        // A new run (a new process: state reloaded from disk) finishes the job.
        var reloaded = await UidlState.LoadAsync(state.Path, CancellationToken.None);
        var resumed = drop.Open();
        var result = await new Pop3Fetcher(maildir, reloaded).FetchAsync(resumed, keep: false, null, CancellationToken.None);

        Assert.Equal(2, result.Downloaded);
        Assert.Equal(2, result.Skipped);
        Assert.Equal(["DELE m1", "DELE m2", "RETR m3", "DELE m3", "RETR m4", "DELE m4", "QUIT"], resumed.Log);
        Assert.Empty(drop.Messages);
        Assert.Equal(Enumerable.Range(1, 4).Select(i => $"Subject: {i}\r\n\r\nbody {i}\r\n").ToArray(), MaildirContents(maildir));
    }

    [Fact]
    public async Task Keep_DownloadsEachMessageOnce()
    {
        using var dir = new TempDirectory();
        var (fetcher, maildir, state) = await CreateAsync(dir);
        var drop = new FakeMaildrop();
        drop.Add("k1", "Subject: 1\r\n\r\n1\r\n");

        var first = await fetcher.FetchAsync(drop.Open(), keep: true, null, CancellationToken.None);
        drop.Add("k2", "Subject: 2\r\n\r\n2\r\n");
        var secondSession = drop.Open();
        var second = await fetcher.FetchAsync(secondSession, keep: true, null, CancellationToken.None);
        drop.Messages.RemoveAt(0); // deleted by another client
        var third = await fetcher.FetchAsync(drop.Open(), keep: true, null, CancellationToken.None);

        Assert.Equal((1, 0), (first.Downloaded, first.Deleted));
        Assert.Equal((1, 1, 0), (second.Downloaded, second.Skipped, second.Deleted));
        Assert.Equal(["RETR k2", "QUIT"], secondSession.Log);
        Assert.Equal((0, 1), (third.Downloaded, third.Skipped));
        Assert.Single(drop.Messages);
        Assert.Equal(2, MaildirContents(maildir).Length);
        Assert.False(state.Contains("k1")); // forgotten once gone from the server
        Assert.True(state.Contains("k2"));
    }

    [Fact]
    public async Task Keep_WithoutUidl_IsRefusedBeforeDownloading()
    {
        using var dir = new TempDirectory();
        var (fetcher, maildir, _) = await CreateAsync(dir);
        var drop = new FakeMaildrop { SupportsUids = false };
        drop.Add("x", "Subject: x\r\n\r\nx\r\n");
        var session = drop.Open();
        var error = await Assert.ThrowsAsync<ClientException>(() => fetcher.FetchAsync(session, keep: true, null, CancellationToken.None));
        Assert.Equal(ExitCodes.Error, error.ExitCode);
        Assert.Empty(session.Log);
    }

    [Fact]
    public async Task WithoutUidl_StillDownloadsAndDeletes()
    {
        using var dir = new TempDirectory();
        var (fetcher, maildir, _) = await CreateAsync(dir);
        var drop = new FakeMaildrop { SupportsUids = false };
        drop.Add("x", "Subject: x\r\n\r\nx\r\n");
        var result = await fetcher.FetchAsync(drop.Open(), keep: false, null, CancellationToken.None);
        Assert.Equal((1, 1), (result.Downloaded, result.Deleted));
        Assert.Empty(drop.Messages);
        Assert.Single(MaildirContents(maildir));
    }
}