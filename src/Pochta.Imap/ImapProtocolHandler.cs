using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

using Pochta.Core;
using Pochta.Hosting;
using Pochta.Sasl;
using Pochta.Storage;

namespace Pochta.Imap;

/// <summary>The IMAP4rev1/IMAP4rev2 server (RFC 3501, RFC 9051) on Imap and Imaps listeners.</summary>
public sealed class ImapProtocolHandler(
    IMailStore store,
    IAuthenticator authenticator,
    IMessageIndexer indexer,
    IOptions<ServerOptions> server,
    IOptions<ImapOptions> options,
    TimeProvider time,
    ILogger<ImapProtocolHandler> logger) : IMailProtocolHandler
{
    private readonly MessageCache _cache = new(options.Value.MessageCacheSize);
    private readonly MailboxSnapshots _snapshots = new(options.Value.MailboxIndexEntries);

    public IReadOnlyList<MailProtocol> Protocols { get; } = [MailProtocol.Imap, MailProtocol.Imaps];

    /// <summary>The decoded-index cache every session of this handler shares.</summary>
    internal MessageCache Cache => _cache;

    /// <summary>The per-mailbox indexes every session of this handler shares.</summary>
    internal MailboxSnapshots Snapshots => _snapshots;

    public Task RunAsync(MailConnection connection, CancellationToken cancellationToken)
    {
        var services = new ImapServices(store, authenticator, indexer, server.Value, options.Value, time, logger, _cache, _snapshots);
        var session = new ImapSession(connection, services);
        return session.RunAsync(cancellationToken);
    }
}

/// <summary>What every session shares.</summary>
internal sealed record ImapServices(
    IMailStore Store,
    IAuthenticator Authenticator,
    IMessageIndexer Indexer,
    ServerOptions Server,
    ImapOptions Options,
    TimeProvider Time,
    ILogger Logger,
    MessageCache Cache,
    MailboxSnapshots Snapshots);