namespace Pochta.Client.Local;

/// <summary>Where downloaded messages go. <see cref="DeliverAsync"/> returns only once the message
/// is durable (fsynced), so the caller may then record it and delete it on the server.</summary>
internal interface IMessageSink
{
    /// <summary>A description for output: the Maildir or mbox path.</summary>
    string Location { get; }

    void EnsureCreated();

    Task<string> DeliverAsync(Stream message, CancellationToken cancellationToken);
}