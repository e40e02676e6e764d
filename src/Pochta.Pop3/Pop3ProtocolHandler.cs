using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

using Pochta.Core;
using Pochta.Hosting;
using Pochta.Sasl;
using Pochta.Storage;

namespace Pochta.Pop3;

/// <summary>The POP3 delivery agent for the POP3 (110, STLS) and POP3S (995, implicit TLS) listeners.</summary>
public sealed class Pop3ProtocolHandler : IMailProtocolHandler
{
    private readonly Pop3Services _services;

    public Pop3ProtocolHandler(
        IMailStore store,
        IAuthenticator authenticator,
        IOptions<Pop3Options> options,
        IOptions<ServerOptions> server,
        Pop3MaildropRegistry registry,
        TimeProvider time,
        ILogger<Pop3ProtocolHandler> logger)
    {
        _services = new Pop3Services(store, authenticator, options.Value, server.Value, registry, time, logger);
    }

    public IReadOnlyList<MailProtocol> Protocols { get; } = [MailProtocol.Pop3, MailProtocol.Pop3s];

    public async Task RunAsync(MailConnection connection, CancellationToken cancellationToken)
    {
        using var session = new Pop3Session(connection, _services);
        await session.RunAsync(cancellationToken);
    }
}