using MailKit.Net.Pop3;

namespace Pochta.Client.Local;

/// <summary><see cref="IPop3Mailbox"/> over a connected, authenticated MailKit client.</summary>
internal sealed class Pop3ClientMailbox(Pop3Client client) : IPop3Mailbox
{
    public int Count => client.Count;

    public bool SupportsUids => client.Capabilities.HasFlag(Pop3Capabilities.UIDL);

    public async Task<IReadOnlyList<string>> GetUidsAsync(CancellationToken cancellationToken) =>
        [.. await client.GetMessageUidsAsync(cancellationToken)];

    public Task<Stream> OpenAsync(int index, CancellationToken cancellationToken) =>
        client.GetStreamAsync(index, headersOnly: false, cancellationToken);

    public Task DeleteAsync(int index, CancellationToken cancellationToken) => client.DeleteMessageAsync(index, cancellationToken);

    public Task CommitAsync(CancellationToken cancellationToken) => client.DisconnectAsync(quit: true, cancellationToken);
}