using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

using MimeKit;

using Pochta.Hosting;
using Pochta.Storage;

namespace Pochta.Delivery.Tests.Fakes;

/// <summary>Builds the outbound pipeline over the fake store, fake DNS and a FakeTimeProvider.</summary>
public sealed class Harness : IDisposable
{
    public static readonly DateTimeOffset Start = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    public const string Message =
        "From: Alice <alice@pochta.test>\r\n" +
        "To: bob@remote.test\r\n" +
        "Subject: Hello\r\n" +
        "Date: Tue, 01 Dec 2026 12:00:00 +0000\r\n" +
        "Message-ID: <hello-1@pochta.test>\r\n" +
        "MIME-Version: 1.0\r\n" +
        "Content-Type: text/plain; charset=utf-8\r\n" +
        "Content-Transfer-Encoding: 8bit\r\n" +
        "\r\n" +
        "Привет, Bob! Ünïcödé body line.\r\n" +
        "A second line.\r\n";

    public const string AsciiMessage =
        "From: Alice <alice@pochta.test>\r\n" +
        "To: bob@remote.test\r\n" +
        "Subject: Plain\r\n" +
        "Message-ID: <plain-1@pochta.test>\r\n" +
        "\r\n" +
        "Just ASCII.\r\n";

    private string? _dkimDirectory;

    public FakeMailStore Store { get; } = new();

    public FakeDns Dns { get; } = new();

    public FakeTimeProvider Time { get; } = new(Start);

    public OutboundQueueSignal Signal { get; } = new();

    public OutboundOptions Options { get; } = new()
    {
        CommandTimeout = TimeSpan.FromSeconds(20),
        ConnectTimeout = TimeSpan.FromSeconds(20),
    };

    public string HostName { get; set; } = "mx.pochta.test";

    public DkimKeyStore? DkimKeys { get; private set; }

    /// <summary>One generated key pair per domain for the whole run (RSA generation is slow on a shared CPU).</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<Task<string>>> Templates = new();

    /// <summary>Gives a domain DKIM keys in a temporary directory (copies of keys generated once
    /// by <see cref="DkimKeyStore.RotateAsync"/>) and turns signing on.</summary>
    public async Task<IReadOnlyList<DkimKeyInfo>> EnableDkimAsync(string domain)
    {
        var template = await Templates.GetOrAdd(domain, d => new Lazy<Task<string>>(async () =>
        {
            var dir = Directory.CreateTempSubdirectory("pochta-dkim-template-").FullName;
            await new DkimKeyStore(dir, new FakeTimeProvider(Start)).RotateAsync(d, CancellationToken.None);
            return dir;
        })).Value;
        _dkimDirectory ??= Directory.CreateTempSubdirectory("pochta-dkim-").FullName;
        var target = Directory.CreateDirectory(Path.Combine(_dkimDirectory, domain)).FullName;
        foreach (var file in Directory.EnumerateFiles(Path.Combine(template, domain)))
        {
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)), overwrite: true);
        }

        DkimKeys ??= new DkimKeyStore(_dkimDirectory, Time);
        return DkimKeys.GetActiveKeys(domain);
    }

    public OutboundRouter Router => new(Options, Dns);

    public OutboundDelivery CreateDelivery() => new(
        Store,
        Router,
        Dns,
        new DsnSender(Store, new NullIndexer(), Signal, NullLogger<DsnSender>.Instance),
        new DkimMessageSigner(DkimKeys),
        Microsoft.Extensions.Options.Options.Create(Options),
        Microsoft.Extensions.Options.Options.Create(new ServerOptions { HostName = HostName }),
        Time,
        NullLogger<OutboundDelivery>.Instance);

    public OutboundQueueService CreateQueueService() => new(
        Store,
        CreateDelivery(),
        Router,
        Signal,
        Microsoft.Extensions.Options.Options.Create(Options),
        Time,
        NullLogger<OutboundQueueService>.Instance);

    /// <summary>One delivery run, as the queue runner does it: the due recipients of the given
    /// entries, grouped by destination, each destination's messages over one session.</summary>
    public async Task RunAsync(params long[] queueIds)
    {
        var now = Time.GetUtcNow();
        var router = Router;
        var groups = new Dictionary<string, (Destination Destination, List<OutboundWorkItem> Items)>();
        foreach (var id in queueIds)
        {
            if (Store.Entry(id) is not { } entry)
            {
                continue;
            }

            foreach (var g in entry.Recipients
                .Where(r => r.State is RecipientState.Queued or RecipientState.Deferred && (r.NextAttemptAt is null || r.NextAttemptAt <= now))
                .GroupBy(r => router.GetDestination(r.Address).Key))
            {
                if (!groups.TryGetValue(g.Key, out var group))
                {
                    groups[g.Key] = group = (router.GetDestination(g.First().Address), []);
                }

                group.Items.Add(new OutboundWorkItem(entry, g.ToList()));
            }
        }

        await using var delivery = CreateDelivery();
        foreach (var (destination, items) in groups.Values)
        {
            await delivery.DeliverAsync(destination, items, CancellationToken.None);
        }
    }

    public QueueRecipientInfo Recipient(long queueId, string address) =>
        Store.Entry(queueId)?.Recipients.Single(r => r.Address == address)
        ?? Store.FinalRecipients.Values.Single(r => r.Address == address);

    /// <summary>DSNs queued to remote senders (entries with the null sender), parsed.</summary>
    public List<MimeMessage> QueuedDsns() =>
        Store.Entries().Where(e => e.Sender.Length == 0)
            .Select(e => MimeMessage.Load(new MemoryStream(Store.GetMessage(e.MessageId))))
            .ToList();

    /// <summary>DSNs delivered to local INBOXes, parsed.</summary>
    public List<MimeMessage> LocalDsns() =>
        Store.LocalCopies.Select(c => MimeMessage.Load(new MemoryStream(Store.GetMessage(c.MessageId)))).ToList();

    public void Dispose()
    {
        if (_dkimDirectory is not null)
        {
            Directory.Delete(_dkimDirectory, recursive: true);
        }
    }
}