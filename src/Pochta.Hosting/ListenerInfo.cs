using System.Net;

using Pochta.Core;

namespace Pochta.Hosting;

/// <summary>One configured listening socket.</summary>
/// <param name="Name">Configuration name (e.g. <c>smtp</c>, <c>imaps</c>).</param>
/// <param name="ImplicitTls">TLS starts before the protocol greeting (465, 993, 995).</param>
public sealed record ListenerInfo(string Name, MailProtocol Protocol, bool ImplicitTls, IPEndPoint EndPoint);

/// <summary>A protocol implementation hosted on one or more listeners. Registered in DI;
/// the host picks the handler whose <see cref="Protocols"/> contains the listener's protocol.</summary>
public interface IMailProtocolHandler
{
    IReadOnlyList<MailProtocol> Protocols { get; }

    /// <summary>Runs one session to completion. TLS for implicit-TLS listeners is already up.
    /// When <see cref="MailConnection.OverConnectionLimit"/> is set the session must send its
    /// protocol's "too busy" reply and return.</summary>
    Task RunAsync(MailConnection connection, CancellationToken cancellationToken);
}