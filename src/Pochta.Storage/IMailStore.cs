namespace Pochta.Storage;

/// <summary>The storage backend: one object per data store, shared by every session.</summary>
public interface IMailStore : IAsyncDisposable
{
    IDirectoryStore Directory { get; }

    IMailboxStore Mailboxes { get; }

    IMessageStore Messages { get; }

    IQueueStore Queue { get; }

    IChangeBus Changes { get; }

    /// <summary>Applies pending schema migrations and recovers from an unclean stop
    /// (removes staged files and blobs without references).</summary>
    Task InitializeAsync(CancellationToken cancellationToken);
}

/// <summary>Parses a staged message once, at delivery or APPEND, into the serialized index
/// stored beside it (envelope, body structure with part offsets, search fields).</summary>
public interface IMessageIndexer
{
    ValueTask<byte[]> BuildIndexAsync(Stream message, CancellationToken cancellationToken);
}