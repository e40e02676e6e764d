using MailKit;
using MailKit.Net.Imap;
using MailKit.Search;
using MailKit.Security;

using MimeKit;

using Pochta.Imap.Tests.Support;

namespace Pochta.Imap.Tests;

/// <summary>MailKit's ImapClient against the session over a real loopback socket.</summary>
public sealed class MailKitTests
{
    private static async Task<(ImapHarness, TcpImapServer, ImapClient)> StartAsync(bool loopbackIsSecure = true)
    {
        var h = await ImapHarness.CreateAsync();
        var server = new TcpImapServer(h, loopbackIsSecure);
        var client = new ImapClient();
        client.ServerCertificateValidationCallback = (_, certificate, _, _) => certificate?.GetCertHashString() == server.Thumbprint;
        await client.ConnectAsync("127.0.0.1", server.Port, SecureSocketOptions.None);
        return (h, server, client);
    }

    [Fact]
    public async Task Starttls_then_login_folders_fetch_search()
    {
        var (h, server, client) = await StartAsync(loopbackIsSecure: false);
        await using var _ = h;
        await using var __ = server;
        using var ___ = client;
        Assert.True(client.Capabilities.HasFlag(ImapCapabilities.StartTLS));
        await client.DisconnectAsync(false);
        await client.ConnectAsync("127.0.0.1", server.Port, SecureSocketOptions.StartTls);
        Assert.True(client.IsSecure);
        await client.AuthenticateAsync(ImapHarness.User, ImapHarness.Password);
        await h.DeliverAsync(FetchTests.Multipart);
        await h.DeliverAsync(FetchTests.Simple);

        var inbox = client.Inbox;
        await inbox.OpenAsync(FolderAccess.ReadWrite);
        Assert.Equal(2, inbox.Count);
        var summaries = await inbox.FetchAsync(0, -1, MessageSummaryItems.Full | MessageSummaryItems.UniqueId | MessageSummaryItems.BodyStructure);
        Assert.Equal("Привет", summaries[0].Envelope!.Subject);
        Assert.Equal("Hello there", summaries[1].Envelope!.Subject);
        var attachment = summaries[0].Attachments!.Single();
        Assert.Equal("x.bin", attachment.FileName);
        var part = (MimePart)await inbox.GetBodyPartAsync(summaries[0].UniqueId, attachment);
        using var decoded = new MemoryStream();
        await part.Content!.DecodeToAsync(decoded);
        Assert.Equal(new byte[] { 0, 1, 2, 3, 4 }, decoded.ToArray());
        var message = await inbox.GetMessageAsync(summaries[1].UniqueId);
        Assert.Equal("Hi Alice.", message.TextBody!.Trim());

        var found = await inbox.SearchAsync(SearchQuery.SubjectContains("hello"));
        Assert.Equal([summaries[1].UniqueId], found);
        var personal = client.GetFolder(client.PersonalNamespaces[0]);
        var created = await personal.CreateAsync("Projects", true) ?? throw new InvalidOperationException();
        Assert.Contains(await personal.GetSubfoldersAsync(false), f => f.Name == "Projects");
        var moved = await inbox.MoveToAsync(summaries[1].UniqueId, created);
        Assert.NotNull(moved);
        Assert.Equal(1, inbox.Count);
        await client.DisconnectAsync(true);
    }

    [Fact]
    public async Task Compress_idle_condstore_qresync_sort_thread()
    {
        var (h, server, client) = await StartAsync();
        await using var _ = h;
        await using var __ = server;
        using var ___ = client;
        await client.AuthenticateAsync(ImapHarness.User, ImapHarness.Password);
        await client.CompressAsync();
        await client.EnableQuickResyncAsync();
        await h.DeliverAsync(FetchTests.Simple);
        var inbox = client.Inbox;
        await inbox.OpenAsync(FolderAccess.ReadWrite);
        var modseq = inbox.HighestModSeq;
        Assert.True(inbox.Supports(FolderFeature.QuickResync));

        using (var done = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
        {
            inbox.CountChanged += (_, _) => done.Cancel();
            var idle = client.IdleAsync(done.Token);
            await Task.Delay(200);
            await h.DeliverAsync(FetchTests.Multipart, date: h.Time.GetUtcNow().AddMinutes(1));
            await idle;
        }

        Assert.Equal(2, inbox.Count);
        await inbox.AddFlagsAsync(0, MessageFlags.Flagged, true);
        var changed = await inbox.FetchAsync(0, -1, modseq, MessageSummaryItems.Flags | MessageSummaryItems.UniqueId | MessageSummaryItems.ModSeq);
        Assert.Equal(2, changed.Count);
        var sorted = await inbox.SortAsync(SearchQuery.All, [OrderBy.ReverseArrival]);
        Assert.Equal(2u, sorted[0].Id);
        var threads = await inbox.ThreadAsync(ThreadingAlgorithm.References, SearchQuery.All);
        Assert.Equal(2, threads.Count);
        await client.DisconnectAsync(true);
    }
}